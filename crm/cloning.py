"""Copy of a host town's catalog and information bank into the current town's schema.

Set-based SQL across schemas (one INSERT … SELECT per table), never a row-by-row loop and never
a copy of the host's schema: only the catalog and the bank travel, no citizen, request or
account. Every copied row keeps the host row's `uuid` as its `source_uuid`, and every copied
service type and article the fingerprint of what it was copied from (`source_fingerprint`, see
crm.upstream), so that the host's later edits can be offered.

Running it again copies only what is new at the host: nothing twice, and nothing this town has
deleted from its copy (the table crm_deletedcopy, kept by a trigger, migration 0008), unless
`restore_deleted`. Questions, choices and
links between articles and types are copied with a new type or article only, so those the town
removed from its copy stay removed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists

from crm.errors import CrmError, CrmErrorCode
from crm.upstream import FOLLOWED

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Tables whose copied rows, once deleted, are remembered in crm_deletedcopy (migration 0008).
_COPIED_TABLES = ("crm_department", "crm_servicecategory", "crm_servicetype", "crm_faqarticle")


@dataclass(frozen=True)
class CloneReport:
    counts: dict[str, int] = field(default_factory=dict)
    milliseconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _quoted_schema(name: str) -> str:
    if not schema_exists(name):
        raise CrmError(
            CrmErrorCode.UNKNOWN_SOURCE,
            _("La ville source (schéma {schema}) n'existe pas.").format(schema=name),
            field="source",
        )
    return '"' + name.replace('"', "") + '"'


def catalog_copy_from(
    *,
    source_schema: str,
    department_map: Mapping[str, str] | None = None,
    service_type_codes: Iterable[str] | None = None,
    include_faq: bool = True,
    restore_deleted: bool = False,
) -> CloneReport:
    """Copy the host's departments, categories, service types (with their questions and
    choices) and, if asked, the information bank, into the current schema.

    `department_map` sends host department codes to this town's codes (rename, or merge
    several into one); unmapped departments keep their code. `service_type_codes` limits the
    copy to those types (None: all), and the departments, categories and articles they need.
    `restore_deleted` copies again the host's items this town deleted from an earlier copy.
    Raises CrmError for an unknown source or a department code that is not a valid code.
    """
    source = _quoted_schema(source_schema)
    mapping = dict(department_map or {})
    for code in (*mapping, *mapping.values()):
        if not _CODE.match(code):
            raise CrmError(
                CrmErrorCode.INVALID_DEPARTMENT_CODE,
                _("« {code} » n'est pas un code de service valide.").format(code=code),
                field="department_map",
            )
    codes = list(service_type_codes) if service_type_codes is not None else None
    params: dict[str, Any] = {
        "map_from": list(mapping),
        "map_to": list(mapping.values()),
        "codes": codes,
        "all_types": codes is None,
        "restore_deleted": restore_deleted,
        "new_types": [],
        "new_articles": [],
    }
    # Host department code → this town's code.
    dept_map = (
        "SELECT d.id AS source_id, d.uuid AS source_uuid, "
        "COALESCE(m.target_code, d.code) AS target_code "
        f"FROM {source}.crm_department d "
        "LEFT JOIN unnest(%(map_from)s::text[], %(map_to)s::text[]) AS m(source_code, target_code) "
        "ON m.source_code = d.code"
    )

    # `NOT IN (subquery)` rather than `NOT EXISTS`: read once before the first row is written,
    # never again per row (a new town's tables have no statistics, and an anti-join planned as
    # a loop would rescan the very table being filled).
    def not_deleted(alias: str) -> str:
        return (
            f"(%(restore_deleted)s OR {alias}.uuid NOT IN "
            "(SELECT x.source_uuid FROM crm_deletedcopy x))"
        )

    chosen_types = (
        f"SELECT st.* FROM {source}.crm_servicetype st "
        "WHERE %(all_types)s OR st.code = ANY(%(codes)s::text[])"
    )
    statements = {
        "departments": f"""
            INSERT INTO crm_department
                (uuid, source_uuid, code, name_fr, name_en, email, is_active)
            SELECT DISTINCT ON (dm.target_code) gen_random_uuid(), d.uuid, dm.target_code,
                   d.name_fr, d.name_en, '', d.is_active
            FROM {source}.crm_department d JOIN ({dept_map}) dm ON dm.source_id = d.id
            WHERE (%(all_types)s OR d.id IN (SELECT department_id FROM ({chosen_types}) t)
               OR d.id IN (SELECT owner_department_id FROM {source}.crm_faqarticle f
                           JOIN {source}.crm_faqarticle_service_types l ON l.faqarticle_id = f.id
                           JOIN ({chosen_types}) t ON t.id = l.servicetype_id))
              AND {not_deleted("d")}
            -- A merge keeps the name of the host department whose code it keeps.
            ORDER BY dm.target_code, (d.code = dm.target_code) DESC, d.id
            ON CONFLICT (code) DO NOTHING""",
        "categories": f"""
            INSERT INTO crm_servicecategory (uuid, source_uuid, code, name_fr, name_en, "order")
            SELECT gen_random_uuid(), c.uuid, c.code, c.name_fr, c.name_en, c."order"
            FROM {source}.crm_servicecategory c
            WHERE (%(all_types)s OR c.id IN (SELECT category_id FROM ({chosen_types}) t))
              AND {not_deleted("c")}
            ON CONFLICT (code) DO NOTHING""",
        "service_types": f"""
            INSERT INTO crm_servicetype (uuid, source_uuid, code, name_fr, name_en, description_fr,
                description_en, category_id, department_id, kind, sla_value, sla_unit,
                default_priority, is_public, is_active, location_required, keywords,
                created_at, updated_at, source_fingerprint)
            SELECT gen_random_uuid(), t.uuid, t.code, t.name_fr, t.name_en, t.description_fr,
                   t.description_en, c.id, d.id, t.kind, t.sla_value, t.sla_unit,
                   t.default_priority, t.is_public, t.is_active, t.location_required, t.keywords,
                   now(), now(), {FOLLOWED["service_type"].fingerprint_sql("t", source)}
            FROM ({chosen_types}) t
            JOIN {source}.crm_servicecategory sc ON sc.id = t.category_id
            JOIN crm_servicecategory c ON c.code = sc.code
            JOIN ({dept_map}) dm ON dm.source_id = t.department_id
            JOIN crm_department d ON d.code = dm.target_code
            WHERE {not_deleted("t")}
            ON CONFLICT (code) DO NOTHING
            RETURNING id""",
        # Questions and their choices in one statement. Each question's new id is drawn first,
        # so its choices join it by the host question's id: no join on codes, which a planner
        # without statistics on freshly written rows could turn into a cross product.
        "attributes,attribute_values": f"""
            WITH chosen AS MATERIALIZED (
                SELECT nextval(pg_get_serial_sequence('crm_serviceattribute', 'id')) AS new_id,
                       a.id AS source_id, t.id AS service_type_id, a.code, a.label_fr,
                       a.label_en, a.datatype, a.required, a."order"
                FROM {source}.crm_serviceattribute a
                JOIN {source}.crm_servicetype st ON st.id = a.service_type_id
                JOIN crm_servicetype t ON t.source_uuid = st.uuid
                -- only the types this run copied: a new type has no question yet
                WHERE t.id = ANY(%(new_types)s::bigint[])
            ), new_attributes AS (
                INSERT INTO crm_serviceattribute (id, service_type_id, code, label_fr, label_en,
                    datatype, required, "order")
                SELECT new_id, service_type_id, code, label_fr, label_en, datatype, required,
                       "order"
                FROM chosen
                RETURNING 1
            ), new_values AS (
                INSERT INTO crm_serviceattributevalue (attribute_id, key, name_fr, name_en, "order")
                SELECT c.new_id, v.key, v.name_fr, v.name_en, v."order"
                FROM chosen c
                JOIN {source}.crm_serviceattributevalue v ON v.attribute_id = c.source_id
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM new_attributes), (SELECT count(*) FROM new_values)""",
    }
    if include_faq:
        statements |= {
            "faq_articles": f"""
                INSERT INTO crm_faqarticle (uuid, source_uuid, question_fr, answer_fr, question_en,
                    answer_en, category_id, audience, status, owner_department_id, review_on,
                    version, created_at, updated_at, search_vector, question_vector,
                    source_fingerprint)
                SELECT gen_random_uuid(), f.uuid, f.question_fr, f.answer_fr, f.question_en,
                       f.answer_en, c.id, f.audience, f.status, d.id, f.review_on, 1, now(), now(),
                       -- same text, same vectors: the copy does not parse the bank again
                       f.search_vector, f.question_vector,
                       {FOLLOWED["faq_article"].fingerprint_sql("f", source)}
                FROM {source}.crm_faqarticle f
                JOIN ({dept_map}) dm ON dm.source_id = f.owner_department_id
                JOIN crm_department d ON d.code = dm.target_code
                LEFT JOIN {source}.crm_servicecategory sc ON sc.id = f.category_id
                LEFT JOIN crm_servicecategory c ON c.code = sc.code
                WHERE f.status <> 'archived'
                  AND f.uuid NOT IN (
                      SELECT x.source_uuid FROM crm_faqarticle x WHERE x.source_uuid IS NOT NULL)
                  AND {not_deleted("f")}
                  AND (%(all_types)s OR EXISTS (
                      SELECT 1 FROM {source}.crm_faqarticle_service_types l
                      JOIN ({chosen_types}) t ON t.id = l.servicetype_id
                      WHERE l.faqarticle_id = f.id))
                RETURNING id""",
            "faq_links": f"""
                INSERT INTO crm_faqarticle_service_types (faqarticle_id, servicetype_id)
                SELECT a.id, t.id
                FROM {source}.crm_faqarticle_service_types l
                JOIN {source}.crm_faqarticle f ON f.id = l.faqarticle_id
                JOIN {source}.crm_servicetype st ON st.id = l.servicetype_id
                JOIN crm_faqarticle a ON a.source_uuid = f.uuid
                JOIN crm_servicetype t ON t.source_uuid = st.uuid
                WHERE a.id = ANY(%(new_articles)s::bigint[])
                   OR t.id = ANY(%(new_types)s::bigint[])
                ON CONFLICT DO NOTHING""",
            "faq_versions": """
                INSERT INTO crm_faqarticleversion (article_id, version, question_fr, answer_fr,
                    question_en, answer_en, audience, status, category_id, owner_department_id,
                    review_on, service_type_codes, edited_at)
                SELECT a.id, 1, a.question_fr, a.answer_fr, a.question_en, a.answer_en,
                       a.audience, a.status, a.category_id, a.owner_department_id, a.review_on,
                       '[]'::jsonb, now()
                FROM crm_faqarticle a
                WHERE a.id = ANY(%(new_articles)s::bigint[])""",
        }
    started = time.perf_counter()
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for names, sql in statements.items():
            cursor.execute(sql, params)
            if "," in names:  # one statement for several tables: it selects their counts
                counts |= dict(zip(names.split(","), cursor.fetchone(), strict=True))
                continue
            counts[names] = cursor.rowcount
            if names in ("service_types", "faq_articles"):
                params["new_types" if names == "service_types" else "new_articles"] = [
                    row[0] for row in cursor.fetchall()
                ]
        if restore_deleted:
            cursor.execute(
                "DELETE FROM crm_deletedcopy x WHERE EXISTS ("
                + " UNION ALL ".join(
                    f"SELECT 1 FROM {table} c WHERE c.source_uuid = x.source_uuid"
                    for table in _COPIED_TABLES
                )
                + ")"
            )
    return CloneReport(counts=counts, milliseconds=(time.perf_counter() - started) * 1000)
