"""Sign-in now requires a verified address. Accounts without any address record were created
by a town or the platform (invitations, commands), never by a sign-up, which always records
one: their address is recorded as verified. Self sign-ups keep their own record as it is."""

from django.db import migrations


def verify_created_accounts(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email.lower(), verified=True, primary=True)
        for user in User.objects.filter(emailaddress__isnull=True).exclude(email="")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('account', '0009_emailaddress_unique_primary_email'),
    ]

    operations = [
        migrations.RunPython(verify_created_accounts, migrations.RunPython.noop),
    ]
