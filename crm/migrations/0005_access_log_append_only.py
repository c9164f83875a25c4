"""The access log, like the timeline, refuses updates and deletes in the database itself."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION crm_refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER crm_accesslog_append_only
    BEFORE UPDATE OR DELETE ON crm_accesslog
    FOR EACH ROW EXECUTE FUNCTION crm_refuse_event_change();
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_sla_warning_time_versions_access_lists")]

    operations = [
        migrations.RunSQL(
            APPEND_ONLY, "DROP TRIGGER IF EXISTS crm_accesslog_append_only ON crm_accesslog;"
        ),
    ]
