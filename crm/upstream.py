"""Updates from the host town to the copies a partner town made of its catalog and bank.

When a service type or an article is copied (crm.cloning), the copy records in
`source_fingerprint` one md5 per followed field of the host's row (FOLLOWED below). The
partner's selector then compares, by set-based SQL reading the host's schema (the one
sanctioned cross-schema read, as for the copy), that fingerprint with the host's current row
and with its own row:

- a field *changed upstream* when the host's value no longer matches the fingerprint;
- a field *changed locally* when the partner's value no longer matches it.

An item is offered when a field changed upstream still differs from the partner's value and
the host's version is not the one last ignored (`source_seen`). *Accepting* applies the fields
changed upstream (an article through `faq_article_update`, so as a new version with its
history), keeps the fields changed only locally, and makes the host's version the new
fingerprint. *Ignoring* records the host's version as seen: the item comes back only when the
host changes it again. A field changed on both sides is shown with both values before anyone
decides; accepting takes the host's (an article's previous text stays in its versions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import services
from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    AttributeDatatype,
    FaqArticle,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceType,
)
from tenants.accounts.models import User
from tenants.db import connection
from tenants.models import Municipality

Kind = Literal["service_type", "faq_article"]

# The questions of a service type and their choices, as one comparable value. Ordered by
# order then code (not by id: a copy's ids come in any order), without the order numbers.
_ATTRIBUTES = """coalesce((
    SELECT jsonb_agg(jsonb_build_object(
        'code', a.code, 'label_fr', a.label_fr, 'label_en', a.label_en,
        'datatype', a.datatype, 'required', a.required,
        'values', coalesce((
            SELECT jsonb_agg(jsonb_build_array(v.key, v.name_fr, v.name_en)
                             ORDER BY v."order", v.key)
            FROM {s}crm_serviceattributevalue v WHERE v.attribute_id = a.id), '[]'::jsonb)
    ) ORDER BY a."order", a.code)
    FROM {s}crm_serviceattribute a WHERE a.service_type_id = {t}.id), '[]'::jsonb)"""


@dataclass(frozen=True)
class Followed:
    """A field whose upstream changes are offered: its name and its SQL over alias {t}."""

    name: str
    sql: str


@dataclass(frozen=True)
class FollowedKind:
    kind: Kind
    model: type[models.Model]
    table: str
    title_sql: str
    fields: tuple[Followed, ...]

    def values_sql(self, alias: str, schema: str = "") -> str:
        """jsonb of the followed values of row `alias`, in `schema` (quoted) or the current one."""
        prefix = f"{schema}." if schema else ""
        pairs = ", ".join(f"'{f.name}', {f.sql.format(t=alias, s=prefix)}" for f in self.fields)
        return f"jsonb_build_object({pairs})"

    def fingerprint_sql(self, alias: str, schema: str = "") -> str:
        """jsonb of one md5 per followed field: what `source_fingerprint` holds."""
        prefix = f"{schema}." if schema else ""
        pairs = ", ".join(
            f"'{f.name}', md5(coalesce(({f.sql.format(t=alias, s=prefix)})::text, ''))"
            for f in self.fields
        )
        return f"jsonb_build_object({pairs})"

    def label(self, name: str) -> str:
        if name == "attributes":
            return _("Questions et choix de réponse")
        return str(cast(models.Field, self.model._meta.get_field(name)).verbose_name)


def _plain(*names: str) -> tuple[Followed, ...]:
    return tuple(Followed(name, f"{{t}}.{name}") for name in names)


FOLLOWED: dict[str, FollowedKind] = {
    "service_type": FollowedKind(
        kind="service_type",
        model=ServiceType,
        table="crm_servicetype",
        title_sql="p.code || ' — ' || p.name_fr",
        fields=(
            *_plain(
                "name_fr",
                "name_en",
                "description_fr",
                "description_en",
                "kind",
                "sla_value",
                "sla_unit",
                "default_priority",
                "location_required",
            ),
            Followed("keywords", "to_jsonb({t}.keywords)"),
            Followed("attributes", _ATTRIBUTES),
        ),
    ),
    "faq_article": FollowedKind(
        kind="faq_article",
        model=FaqArticle,
        table="crm_faqarticle",
        title_sql="p.question_fr",
        fields=_plain("question_fr", "question_en", "answer_fr", "answer_en", "audience"),
    ),
}

KIND_LABELS = {
    "service_type": gettext_lazy("Type de requête"),
    "faq_article": gettext_lazy("Article de la banque d'information"),
}


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    host_value: Any
    local_value: Any
    changed_upstream: bool
    changed_locally: bool


@dataclass(frozen=True)
class UpstreamChange:
    """A copied item whose host row changed since the copy (or the last decision)."""

    kind: Kind
    id: int
    title: str
    # md5 of the host's fingerprint: a decision names the version it was made on.
    token: str
    host_fingerprint: dict[str, str]
    changed_locally: bool
    fields: tuple[FieldChange, ...]

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def conflicts(self) -> tuple[FieldChange, ...]:
        return tuple(f for f in self.fields if f.changed_upstream and f.changed_locally)


def host_schema() -> str | None:
    """The schema of the host town the current town was onboarded from, if any."""
    town = (
        Municipality.objects.filter(schema_name=connection.schema_name)
        .select_related("host")
        .first()
    )
    if town is None or town.host is None:
        return None
    return str(town.host.schema_name)


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', "") + '"'


def _pending_sql(followed: FollowedKind, host: str, *, with_values: bool, one: bool) -> str:
    values = (
        f", {followed.values_sql('h', host)} AS host_v, {followed.values_sql('p')} AS local_v,"
        f" {followed.title_sql} AS title"
        if with_values
        else ""
    )
    join_back = (
        f"JOIN {followed.table} p ON p.id = c.id JOIN {host}.{followed.table} h ON h.id = c.host_id"
        if with_values
        else ""
    )
    return f"""
        SELECT c.id, c.base, c.host_h, c.local_h, md5(c.host_h::text) AS token {values}
        FROM (
            SELECT p.id, h.id AS host_id, p.source_fingerprint AS base, p.source_seen AS seen,
                   {followed.fingerprint_sql("h", host)} AS host_h,
                   {followed.fingerprint_sql("p")} AS local_h
            FROM {followed.table} p JOIN {host}.{followed.table} h ON h.uuid = p.source_uuid
            WHERE p.source_fingerprint IS NOT NULL {"AND p.id = %(id)s" if one else ""}
        ) c {join_back}
        WHERE c.host_h <> COALESCE(c.seen, c.base)
          AND EXISTS (
              SELECT 1 FROM jsonb_each_text(c.host_h) e
              WHERE e.value IS DISTINCT FROM c.base ->> e.key
                AND e.value IS DISTINCT FROM c.local_h ->> e.key)
        ORDER BY c.id"""  # noqa: S608 (constants and the host's quoted schema; ids are bound)


def _json(value: Any) -> Any:
    # Django reads jsonb as text on its raw cursors (JSONField parses it itself).
    return json.loads(value) if isinstance(value, str) else value


def _change(followed: FollowedKind, row: Mapping[str, Any]) -> UpstreamChange:
    base, host_h, local_h = (_json(row[name]) for name in ("base", "host_h", "local_h"))
    host_v, local_v = _json(row["host_v"]), _json(row["local_v"])
    fields = tuple(
        FieldChange(
            name=f.name,
            label=followed.label(f.name),
            host_value=host_v[f.name],
            local_value=local_v[f.name],
            changed_upstream=host_h[f.name] != base.get(f.name),
            changed_locally=local_h[f.name] != base.get(f.name),
        )
        for f in followed.fields
        if host_h[f.name] != local_h[f.name]
    )
    return UpstreamChange(
        kind=followed.kind,
        id=row["id"],
        title=row["title"],
        token=row["token"],
        host_fingerprint=host_h,
        changed_locally=local_h != base,
        fields=fields,
    )


def upstream_changes(
    *, kind: Kind | None = None, item_id: int | None = None
) -> list[UpstreamChange]:
    """Copied service types and articles changed by the host since the copy, with their diff.

    Empty for a town that has no host (the host itself, or a town made from nothing).
    """
    host = host_schema()
    if host is None:
        return []
    changes: list[UpstreamChange] = []
    with connection.cursor() as cursor:
        for followed in FOLLOWED.values():
            if kind is not None and followed.kind != kind:
                continue
            sql = _pending_sql(followed, _quoted(host), with_values=True, one=item_id is not None)
            cursor.execute(sql, {"id": item_id})
            names = [column.name for column in cursor.description]
            changes.extend(_change(followed, dict(zip(names, r, strict=True))) for r in cursor)
    return changes


def upstream_change_count() -> int:
    """How many items upstream_changes() would list, without building their diffs."""
    host = host_schema()
    if host is None:
        return 0
    total = 0
    with connection.cursor() as cursor:
        for followed in FOLLOWED.values():
            sql = _pending_sql(followed, _quoted(host), with_values=False, one=False)
            cursor.execute(f"SELECT count(*) FROM ({sql}) pending")  # noqa: S608
            total += cursor.fetchone()[0]
    return total


def _pending(kind: str, item_id: int, token: str) -> tuple[FollowedKind, UpstreamChange]:
    """The pending change of one item, as it was shown (same `token`); locks the item's row.

    Raises CrmError when the item is unknown, has nothing pending any more, or the host changed
    it again since the page was shown (the new difference must be seen before deciding).
    """
    followed = FOLLOWED.get(kind)
    if followed is None:
        raise CrmError(
            CrmErrorCode.UNKNOWN_KIND, _("Type d'élément inconnu : {kind}.").format(kind=kind)
        )
    if not followed.model._default_manager.select_for_update().filter(pk=item_id).exists():
        raise CrmError(CrmErrorCode.NOT_FOUND, _("Cet élément n'existe plus."), status=404)
    pending = upstream_changes(kind=followed.kind, item_id=item_id)
    if not pending:
        raise CrmError(
            CrmErrorCode.NOTHING_PENDING,
            _("Aucune mise à jour de la ville hôte n'attend pour cet élément."),
        )
    if pending[0].token != token:
        raise CrmError(
            CrmErrorCode.CHANGED_AGAIN,
            _(
                "La ville hôte a modifié cet élément de nouveau : "
                "vérifiez la nouvelle différence avant de décider."
            ),
        )
    return followed, pending[0]


def _apply_attributes(service_type: ServiceType, host_attributes: list[dict[str, Any]]) -> None:
    """Make the type's questions and choices those of the host (matched by code and key)."""
    existing = {a.code: a for a in service_type.attributes.all()}
    for order, spec in enumerate(host_attributes):
        attribute = existing.pop(spec["code"], None) or ServiceAttribute(
            service_type=service_type, code=spec["code"]
        )
        attribute.label_fr = spec["label_fr"]
        attribute.label_en = spec["label_en"]
        attribute.datatype = spec["datatype"]
        attribute.required = spec["required"]
        attribute.order = order
        attribute.save()
        values = {v.key: v for v in attribute.values.all()}
        for value_order, (key, name_fr, name_en) in enumerate(spec["values"]):
            value = values.pop(key, None) or ServiceAttributeValue(attribute=attribute, key=key)
            value.name_fr, value.name_en, value.order = name_fr, name_en, value_order
            value.save()
        ServiceAttributeValue.objects.filter(pk__in=[v.pk for v in values.values()]).delete()
    ServiceAttribute.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()


def _apply_service_type(item_id: int, fields: dict[str, Any]) -> None:
    service_type = ServiceType.objects.get(pk=item_id)
    attributes = fields.pop("attributes", None)
    for name, value in fields.items():
        setattr(service_type, name, value)
    try:
        service_type.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CrmError(CrmErrorCode.INVALID_SERVICE_TYPE, messages[0], field=field) from error
    service_type.save()
    if attributes is not None:
        _apply_attributes(service_type, attributes)


def upstream_accept(*, actor: User | None, kind: str, item_id: int, token: str) -> UpstreamChange:
    """Apply the host's version of the fields it changed; keep fields changed only here.

    An article gets a new version (its previous text stays in its history). Raises CrmError
    as _pending does, or when the host's values are refused by this town's validation.
    """
    with transaction.atomic():
        followed, change = _pending(kind, item_id, token)
        applied = {f.name: f.host_value for f in change.fields if f.changed_upstream}
        if followed.kind == "faq_article":
            services.faq_article_update(
                actor=actor,
                article=FaqArticle.objects.get(pk=item_id),
                **applied,
            )
        else:
            _apply_service_type(item_id, applied)
        followed.model._default_manager.filter(pk=item_id).update(
            source_fingerprint=change.host_fingerprint, source_seen=None
        )
    return change


def upstream_ignore(*, actor: User | None, kind: str, item_id: int, token: str) -> UpstreamChange:
    """Keep this town's version; the item is offered again only when the host changes it again."""
    with transaction.atomic():
        followed, change = _pending(kind, item_id, token)
        followed.model._default_manager.filter(pk=item_id).update(
            source_seen=change.host_fingerprint
        )
    return change


def shown_value(followed: FollowedKind, name: str, value: Any) -> str:
    """A followed value as people read it: choice labels, Oui/Non, one question a line."""
    if name == "attributes":
        lines = []
        for spec in value:
            choices = ", ".join(f"{key} ({name_fr})" for key, name_fr, _name_en in spec["values"])
            line = _("{code} : {label}{label_en} — {datatype}, {required}").format(
                code=spec["code"],
                label=spec["label_fr"],
                label_en=f" / {spec['label_en']}" if spec["label_en"] else "",
                datatype=AttributeDatatype(spec["datatype"]).label
                if spec["datatype"] in AttributeDatatype.values
                else spec["datatype"],
                required=_("obligatoire") if spec["required"] else _("facultative"),
            )
            if choices:
                line += " — " + _("choix : {choices}").format(choices=choices)
            lines.append(line)
        return "\n".join(lines)
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if value is None or value == "":
        return ""
    field = cast(models.Field, followed.model._meta.get_field(name))
    labels = dict(field.flatchoices) if field.choices else {}
    return str(labels.get(value, value))


def decision_effect(change: UpstreamChange, field: FieldChange) -> str:
    """What accepting the change does to one field, in a sentence."""
    if field.changed_upstream and field.changed_locally:
        if change.kind == "faq_article":
            return _(
                "Modifié des deux côtés : la version de la ville hôte remplacera la vôtre, "
                "qui restera dans l'historique des versions."
            )
        return _("Modifié des deux côtés : la version de la ville hôte remplacera la vôtre.")
    if field.changed_upstream:
        return _("Modifié par la ville hôte : sa version remplacera la vôtre.")
    return _("Modifié ici seulement : votre version est conservée.")


def upstream_item(*, kind: Kind, item_id: int) -> models.Model:
    """The town's own copy of a followed item."""
    return FOLLOWED[kind].model._default_manager.get(pk=item_id)
