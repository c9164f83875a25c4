"""The version of a town's intake configuration (crm/selectors/town_config.py): one row whose
value a statement trigger on each watched table moves to a new number of a sequence, in the
transaction of the change. Processes compare it with their copy at each read. The trigger runs
before the statement, so the version row is always the first lock a change takes.

The trigger names the row's schema from the table's own (TG_TABLE_SCHEMA), so a town copied or
renamed keeps a working trigger. An API key's `last_used_at` alone does not move it."""

from django.db import migrations

# As of this migration; a later table gets its trigger in a migration of its own (the list in
# crm/selectors/town_config.py is checked against the database by a test).
WATCHED_TABLES = (
    "crm_servicetype",
    "crm_serviceattribute",
    "crm_serviceattributevalue",
    "crm_servicecategory",
    "crm_department",
    "crm_sector",
    "crm_routingrule",
    "crm_businesscalendar",
    "crm_workinghours",
    "crm_closureday",
    "crm_crmsettings",
    "crm_apikey",
)

FUNCTION = """
CREATE TABLE crm_townconfigversion (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version bigserial NOT NULL
);
INSERT INTO crm_townconfigversion DEFAULT VALUES;
CREATE FUNCTION crm_townconfig_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.crm_townconfigversion SET version = DEFAULT', TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$;
"""

API_KEY_COLUMNS = "name, prefix, digest, scope, revoked_at"


def trigger(table: str) -> str:
    events = (
        f"INSERT OR DELETE OR TRUNCATE OR UPDATE OF {API_KEY_COLUMNS}"
        if table == "crm_apikey"
        else "INSERT OR UPDATE OR DELETE OR TRUNCATE"
    )
    return (
        f"CREATE TRIGGER crm_townconfig_changed BEFORE {events} ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION crm_townconfig_changed();"
    )


FORWARD = FUNCTION + "\n".join(trigger(table) for table in WATCHED_TABLES)
BACKWARD = (
    "\n".join(f"DROP TRIGGER IF EXISTS crm_townconfig_changed ON {t};" for t in WATCHED_TABLES)
    + "\nDROP FUNCTION IF EXISTS crm_townconfig_changed();"
    + "\nDROP TABLE IF EXISTS crm_townconfigversion;"
)


class Migration(migrations.Migration):
    dependencies = [("crm", "0024_request_subscription_token")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
