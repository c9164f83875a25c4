"""Law 25 in the database itself.

- The timeline stays append-only, with one narrow exception: anonymisation (crm.privacy) may
  blank an event's message to the neutral marker and remove keys from its data, in a
  transaction that declared it (`set_config('relais.anonymising', 'on', true)`); every other
  column must stay as it was and the row must say it was anonymised. Deletes stay refused.
  See docs/decisions/0001-anonymising-the-append-only-timeline.md.
- The incident register keeps every version: versions refuse updates and deletes, incidents
  refuse deletes.
"""

from django.db import migrations

# Frozen here as crm.models.ANONYMISED_TEXT was when this migration was written.
EVENT_GUARD = """
CREATE OR REPLACE FUNCTION crm_requestevent_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('relais.anonymising', true), '') = 'on'
       AND NEW.id = OLD.id
       AND NEW.request_id = OLD.request_id
       AND NEW.kind = OLD.kind
       AND NEW.visibility = OLD.visibility
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.from_status = OLD.from_status
       AND NEW.to_status = OLD.to_status
       AND NEW.created_at = OLD.created_at
       AND NEW.message IN (OLD.message, '[anonymisé]')
       AND NEW.data -> 'anonymised' = 'true'::jsonb
       AND (NEW.data - 'anonymised') <@ OLD.data
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS crm_requestevent_append_only ON crm_requestevent;
CREATE TRIGGER crm_requestevent_append_only
    BEFORE UPDATE OR DELETE ON crm_requestevent
    FOR EACH ROW EXECUTE FUNCTION crm_requestevent_guard();
"""

EVENT_STRICT = """
DROP TRIGGER IF EXISTS crm_requestevent_append_only ON crm_requestevent;
CREATE TRIGGER crm_requestevent_append_only
    BEFORE UPDATE OR DELETE ON crm_requestevent
    FOR EACH ROW EXECUTE FUNCTION crm_refuse_event_change();
DROP FUNCTION IF EXISTS crm_requestevent_guard();
"""

INCIDENTS_KEPT = """
CREATE TRIGGER crm_privacyincidentversion_append_only
    BEFORE UPDATE OR DELETE ON crm_privacyincidentversion
    FOR EACH ROW EXECUTE FUNCTION crm_refuse_event_change();
CREATE TRIGGER crm_privacyincident_kept
    BEFORE DELETE ON crm_privacyincident
    FOR EACH ROW EXECUTE FUNCTION crm_refuse_event_change();
"""

INCIDENTS_UNGUARDED = """
DROP TRIGGER IF EXISTS crm_privacyincidentversion_append_only ON crm_privacyincidentversion;
DROP TRIGGER IF EXISTS crm_privacyincident_kept ON crm_privacyincident;
"""


class Migration(migrations.Migration):
    dependencies = [("crm", "0010_law25_privacy")]

    operations = [
        migrations.RunSQL(EVENT_GUARD, EVENT_STRICT),
        migrations.RunSQL(INCIDENTS_KEPT, INCIDENTS_UNGUARDED),
    ]
