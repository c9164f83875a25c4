"""Each follow of a request gets the secret of its "stop following" link; the follows made
before get theirs here, one each."""

import secrets

from django.db import migrations, models

import crm.models.alerts


def give_tokens(apps, schema_editor):
    RequestSubscription = apps.get_model("crm", "RequestSubscription")
    for subscription in RequestSubscription.objects.filter(token__isnull=True).only("pk"):
        subscription.token = secrets.token_urlsafe(16)
        subscription.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [("crm", "0023_portal_answers_by_question")]

    operations = [
        migrations.AddField(
            model_name="requestsubscription",
            name="token",
            field=models.CharField(max_length=32, null=True),
        ),
        migrations.RunPython(give_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="requestsubscription",
            name="token",
            field=models.CharField(
                default=crm.models.alerts.subscription_token, max_length=32, unique=True
            ),
        ),
    ]
