from django.db import migrations

APPEND_ONLY = """
CREATE FUNCTION onboarding_audit_append_only() RETURNS trigger AS $$
BEGIN
    -- The only change allowed: the author's account was deleted (ON DELETE SET NULL).
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (NEW.id, NEW.actor_email, NEW.action, NEW.target, NEW.detail, NEW.at)
           IS NOT DISTINCT FROM (OLD.id, OLD.actor_email, OLD.action, OLD.target, OLD.detail, OLD.at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'onboarding_auditentry is append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER onboarding_audit_append_only
    BEFORE UPDATE OR DELETE ON onboarding_auditentry
    FOR EACH ROW EXECUTE FUNCTION onboarding_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS onboarding_audit_append_only ON onboarding_auditentry;
DROP FUNCTION IF EXISTS onboarding_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
