"""Upstream updates (crm.upstream) and copies deleted by a town (crm.cloning).

- `source_fingerprint` / `source_seen` on service types and articles: one md5 per followed field
  of the host's version a copy came from, and of the host's version last ignored. Copies made
  before this migration take their own current text as their fingerprint (what they were copied
  from is not known any more): every difference with the host is then offered as an update.
- `crm_deletedcopy`, a table kept by a trigger: a copied row deleted by the town is remembered,
  so that copying from the host again does not bring it back.
- The proxy `UpstreamUpdate` is the admin's page of the host's updates (no table).
"""

from django.db import migrations, models

# The fingerprints as crm.upstream computed them when this migration was written (frozen here).
BACKFILL = """
UPDATE crm_servicetype p SET source_fingerprint = jsonb_build_object('name_fr', md5(coalesce((p.name_fr)::text, '')), 'name_en', md5(coalesce((p.name_en)::text, '')), 'description_fr', md5(coalesce((p.description_fr)::text, '')), 'description_en', md5(coalesce((p.description_en)::text, '')), 'kind', md5(coalesce((p.kind)::text, '')), 'sla_value', md5(coalesce((p.sla_value)::text, '')), 'sla_unit', md5(coalesce((p.sla_unit)::text, '')), 'default_priority', md5(coalesce((p.default_priority)::text, '')), 'location_required', md5(coalesce((p.location_required)::text, '')), 'keywords', md5(coalesce((to_jsonb(p.keywords))::text, '')), 'attributes', md5(coalesce((coalesce((
    SELECT jsonb_agg(jsonb_build_object(
        'code', a.code, 'label_fr', a.label_fr, 'label_en', a.label_en,
        'datatype', a.datatype, 'required', a.required,
        'values', coalesce((
            SELECT jsonb_agg(jsonb_build_array(v.key, v.name_fr, v.name_en)
                             ORDER BY v."order", v.key)
            FROM crm_serviceattributevalue v WHERE v.attribute_id = a.id), '[]'::jsonb)
    ) ORDER BY a."order", a.code)
    FROM crm_serviceattribute a WHERE a.service_type_id = p.id), '[]'::jsonb))::text, '')))
WHERE p.source_uuid IS NOT NULL AND p.source_fingerprint IS NULL;
UPDATE crm_faqarticle p SET source_fingerprint = jsonb_build_object('question_fr', md5(coalesce((p.question_fr)::text, '')), 'question_en', md5(coalesce((p.question_en)::text, '')), 'answer_fr', md5(coalesce((p.answer_fr)::text, '')), 'answer_en', md5(coalesce((p.answer_en)::text, '')), 'audience', md5(coalesce((p.audience)::text, '')))
WHERE p.source_uuid IS NOT NULL AND p.source_fingerprint IS NULL;
"""

COPIED_TABLES = ("crm_department", "crm_servicecategory", "crm_servicetype", "crm_faqarticle")

# Bookkeeping of the copy, read and written by SQL only (crm.cloning and the trigger below), so
# not a model: one row per copied row that the town deleted.
DELETED_COPIES = """
CREATE TABLE crm_deletedcopy (
    source_uuid uuid PRIMARY KEY,
    "table" varchar(63) NOT NULL,
    deleted_at timestamp with time zone NOT NULL DEFAULT now()
);
"""

# Schema-qualified through TG_TABLE_SCHEMA: right whatever the session's search_path.
TRIGGER = """
CREATE FUNCTION crm_remember_deleted_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.source_uuid IS NOT NULL THEN
        EXECUTE format(
            'INSERT INTO %I.crm_deletedcopy (source_uuid, "table") VALUES ($1, $2) '
            'ON CONFLICT (source_uuid) DO NOTHING', TG_TABLE_SCHEMA)
        USING OLD.source_uuid, TG_TABLE_NAME;
    END IF;
    RETURN OLD;
END;
$$;
""" + "".join(
    f"CREATE TRIGGER crm_remember_deleted_copy AFTER DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION crm_remember_deleted_copy();\n"
    for table in COPIED_TABLES
)

DROP_TRIGGER = (
    "".join(
        f"DROP TRIGGER IF EXISTS crm_remember_deleted_copy ON {table};\n" for table in COPIED_TABLES
    )
    + "DROP FUNCTION IF EXISTS crm_remember_deleted_copy();"
)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_faq_vectors_by_trigger"),
    ]

    operations = [
        migrations.CreateModel(
            name="UpstreamUpdate",
            fields=[],
            options={
                "verbose_name": "mise à jour de la ville hôte",
                "verbose_name_plural": "mises à jour de la ville hôte",
                "proxy": True,
                "default_permissions": (),
                "indexes": [],
                "constraints": [],
            },
            bases=("crm.servicetype",),
        ),
        migrations.AddField(
            model_name="faqarticle",
            name="source_fingerprint",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="Version de la ville hôte dont cet élément est issu (copie ou mise à jour).",
                null=True,
                verbose_name="empreinte de l'original",
            ),
        ),
        migrations.AddField(
            model_name="faqarticle",
            name="source_seen",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="Version de la ville hôte examinée et ignorée; vide si aucune.",
                null=True,
                verbose_name="dernière version ignorée",
            ),
        ),
        migrations.AddField(
            model_name="servicetype",
            name="source_fingerprint",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="Version de la ville hôte dont cet élément est issu (copie ou mise à jour).",
                null=True,
                verbose_name="empreinte de l'original",
            ),
        ),
        migrations.AddField(
            model_name="servicetype",
            name="source_seen",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="Version de la ville hôte examinée et ignorée; vide si aucune.",
                null=True,
                verbose_name="dernière version ignorée",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.RunSQL(DELETED_COPIES, "DROP TABLE crm_deletedcopy;"),
        migrations.RunSQL(TRIGGER, DROP_TRIGGER),
    ]
