from django.db import migrations


class Migration(migrations.Migration):
    """`actor` is the word for the acting user everywhere (the audit's column already); a
    column rename, no rewrite of the table."""

    dependencies = [("onboarding", "0002_audit_append_only")]

    operations = [migrations.RenameField(model_name="milestone", old_name="by", new_name="actor")]
