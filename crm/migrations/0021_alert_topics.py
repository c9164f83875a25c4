"""Every town starts with the four alert topics of the mission's brief; its administrators
rename, reorder or withdraw them."""

from django.db import migrations

TOPICS = [
    ("collectes", "Collectes", "Collections"),
    ("travaux-routiers", "Travaux routiers", "Road works"),
    ("eau", "Eau potable", "Drinking water"),
    ("urgences", "Mesures d'urgence", "Emergencies"),
]


def create_topics(apps, schema_editor):
    AlertTopic = apps.get_model("crm", "AlertTopic")
    for order, (code, name_fr, name_en) in enumerate(TOPICS):
        AlertTopic.objects.get_or_create(
            code=code, defaults={"name_fr": name_fr, "name_en": name_en, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("crm", "0020_notifications_alerts")]

    operations = [migrations.RunPython(create_topics, migrations.RunPython.noop)]
