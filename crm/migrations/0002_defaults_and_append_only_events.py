"""Each town starts with its CRM settings and a Monday-to-Friday 8:30–16:30 calendar, and the
database itself refuses to edit or delete a request's timeline."""

import datetime

from django.db import migrations


def create_defaults(apps, schema_editor):
    CrmSettings = apps.get_model("crm", "CrmSettings")
    BusinessCalendar = apps.get_model("crm", "BusinessCalendar")
    WorkingHours = apps.get_model("crm", "WorkingHours")
    CrmSettings.objects.get_or_create(pk=1)
    calendar, created = BusinessCalendar.objects.get_or_create(pk=1)
    if created:
        WorkingHours.objects.bulk_create(
            WorkingHours(
                calendar=calendar,
                weekday=weekday,
                opens_at=datetime.time(8, 30),
                closes_at=datetime.time(16, 30),
            )
            for weekday in range(5)
        )


APPEND_ONLY = """
CREATE FUNCTION crm_refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'crm_requestevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER crm_requestevent_append_only
    BEFORE UPDATE OR DELETE ON crm_requestevent
    FOR EACH ROW EXECUTE FUNCTION crm_refuse_event_change();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS crm_requestevent_append_only ON crm_requestevent;
DROP FUNCTION IF EXISTS crm_refuse_event_change();
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
