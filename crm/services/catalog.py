"""Writes of the service catalog from the staff workspace, by its editors
(`Viewer.edits_catalog`): service types, their questions and choices, routing rules, and the
decisions on the host city's updates.

Each write validates as the models do (`full_clean`: codes, uniqueness, choices) plus the rules
the API's answers rely on (`crm.attributes`: a list question has choices), runs in one
transaction, and records who changed which fields in the town's admin history (Django's
`LogEntry`, the audit the Django admin keeps for the same records), so that the history of a
type reads the same whichever tool changed it. Provenance (`uuid`, `source_uuid`) is never
written here: a copy stays linked to the host's item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

# A module, not its names: crm.upstream calls these services back (an article's update).
from crm import upstream
from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    Department,
    RoutingRule,
    Sector,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceType,
)
from crm.roles import Viewer

__all__ = [
    "SERVICE_TYPE_FIELDS",
    "Choice",
    "catalog_history_record",
    "field_labels",
    "routing_rule_delete",
    "routing_rule_save",
    "service_attribute_delete",
    "service_attribute_move",
    "service_attribute_save",
    "service_type_save",
    "upstream_decide",
]

SERVICE_TYPE_FIELDS = (
    "code",
    "name_fr",
    "name_en",
    "description_fr",
    "description_en",
    "category",
    "department",
    "kind",
    "sla_value",
    "sla_unit",
    "default_priority",
    "is_public",
    "is_active",
    "location_required",
    "keywords",
)
# Never validated nor written from the workspace: identity, provenance and what crm.upstream
# keeps (the host's fingerprints), and the stored search vectors.
_NOT_EDITED = ["uuid", "source_uuid", "source_fingerprint", "source_seen"]

# A choice of a list question: (key, French label, English label).
Choice = tuple[str, str, str]


def _refuse_unless_editor(viewer: Viewer) -> None:
    if not viewer.edits_catalog:
        raise PermissionDenied(_("Seuls les administrateurs modifient le catalogue."))


def catalog_history_record(
    *, viewer: Viewer, item: models.Model, action: int, message: list[dict[str, Any]] | str
) -> None:
    """One row of the admin's history of `item`: who did it (the account), and what, in the
    admin's own message format (its history page translates it)."""
    LogEntry.objects.log_actions(
        user_id=viewer.user.pk,
        queryset=[item],
        action_flag=action,
        change_message=message,
        single_object=True,
    )


def field_labels(model: type[models.Model], names: Sequence[str]) -> list[str]:
    """The fields' names as the admin's history shows them."""
    return [
        str(cast(models.Field, model._meta.get_field(name)).verbose_name).capitalize()
        for name in names
    ]


def _first_error(error: ValidationError, code: CrmErrorCode) -> CrmError:
    field, messages = next(iter(error.message_dict.items()))
    return CrmError(code, messages[0], field="" if field == "__all__" else field)


def service_type_save(
    *, viewer: Viewer, service_type: ServiceType | None, **fields: Any
) -> ServiceType:
    """Create a service type (`service_type` None) or change one. Its code is set at creation
    and kept after (it is published as Open311's service_code).

    Raises CrmError `invalid_service_type` naming the field (an empty French name, a code
    already taken, an unknown department…); nothing is written then."""
    _refuse_unless_editor(viewer)
    unknown = set(fields) - set(SERVICE_TYPE_FIELDS)
    if service_type is not None and "code" in fields and fields["code"] != service_type.code:
        unknown.add("code")
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
            field=sorted(unknown)[0],
        )
    with transaction.atomic():
        if service_type is None:
            current = ServiceType(**fields)
            changed = list(fields)
        else:
            current = ServiceType.objects.select_for_update().get(pk=service_type.pk)
            changed = [name for name, value in fields.items() if getattr(current, name) != value]
            for name, value in fields.items():
                setattr(current, name, value)
        try:
            current.full_clean(exclude=_NOT_EDITED)
        except ValidationError as error:
            raise _first_error(error, CrmErrorCode.INVALID_SERVICE_TYPE) from error
        current.save()
        if service_type is None:
            catalog_history_record(
                viewer=viewer, item=current, action=ADDITION, message=[{"added": {}}]
            )
        elif changed:
            catalog_history_record(
                viewer=viewer,
                item=current,
                action=CHANGE,
                message=[{"changed": {"fields": field_labels(ServiceType, changed)}}],
            )
    return current


def _validated_choices(datatype: str, choices: Sequence[Choice]) -> None:
    is_list = ServiceAttribute(datatype=datatype).is_list
    if is_list and not choices:
        raise CrmError(
            CrmErrorCode.INVALID_QUESTION,
            _("Une question à choix doit offrir au moins un choix de réponse."),
            field="choices",
        )
    if not is_list and choices:
        raise CrmError(
            CrmErrorCode.INVALID_QUESTION,
            _("Seule une question à choix unique ou multiple a des choix de réponse."),
            field="choices",
        )
    seen: set[str] = set()
    for key, name_fr, name_en in choices:
        if key in seen:
            raise CrmError(
                CrmErrorCode.INVALID_QUESTION,
                _("Le choix « {key} » est inscrit deux fois.").format(key=key),
                field="choices",
            )
        seen.add(key)
        # A comma separates the keys of a multiple answer (crm.attributes): it cannot be in one.
        if not key or "," in key or not name_fr:
            raise CrmError(
                CrmErrorCode.INVALID_QUESTION,
                _(
                    "Chaque choix a une valeur sans virgule et un libellé en français : "
                    "« {key} » n'en a pas."
                ).format(key=key),
                field="choices",
            )
        try:
            ServiceAttributeValue(key=key, name_fr=name_fr, name_en=name_en).full_clean(
                exclude=["attribute"]
            )
        except ValidationError as error:
            message = next(iter(error.message_dict.values()))[0]
            raise CrmError(
                CrmErrorCode.INVALID_QUESTION, f"« {key} » : {message}", field="choices"
            ) from error


def service_attribute_save(
    *,
    viewer: Viewer,
    service_type: ServiceType,
    attribute: ServiceAttribute | None,
    code: str,
    label_fr: str,
    label_en: str,
    datatype: str,
    required: bool,
    choices: Sequence[Choice],
) -> ServiceAttribute:
    """Add a question to `service_type` (last in order) or change one, with its choices in the
    order given (a choice keeps its row when its key stays; the others are removed).

    Raises CrmError `invalid_question` naming the field: a code taken by another question of
    the type, an empty French label, a list question without choices, a choice repeated."""
    _refuse_unless_editor(viewer)
    _validated_choices(datatype, choices)
    with transaction.atomic():
        if attribute is None:
            last = service_type.attributes.aggregate(last=models.Max("order"))["last"]
            current = ServiceAttribute(
                service_type=service_type, order=0 if last is None else last + 1
            )
        else:
            current = ServiceAttribute.objects.select_for_update().get(
                pk=attribute.pk, service_type=service_type
            )
        taken = ServiceAttribute.objects.filter(service_type=service_type, code=code)
        if taken.exclude(pk=current.pk).exists():
            raise CrmError(
                CrmErrorCode.INVALID_QUESTION,
                _("Ce type a déjà une question de code « {code} ».").format(code=code),
                field="code",
            )
        before = {name: getattr(current, name) for name in ("code", "label_fr", "label_en")}
        before |= {"datatype": current.datatype, "required": current.required}
        current.code, current.label_fr, current.label_en = code, label_fr, label_en
        current.datatype, current.required = datatype, required
        try:
            current.full_clean(exclude=["service_type"])
            current.validate_constraints()
        except ValidationError as error:
            raise _first_error(error, CrmErrorCode.INVALID_QUESTION) from error
        current.save()
        existing = {value.key: value for value in current.values.all()}
        had = [(v.key, v.name_fr, v.name_en) for v in existing.values()]
        for order, (key, name_fr, name_en) in enumerate(choices):
            value = existing.pop(key, None) or ServiceAttributeValue(attribute=current, key=key)
            value.name_fr, value.name_en, value.order = name_fr, name_en, order
            value.save()
        ServiceAttributeValue.objects.filter(pk__in=[v.pk for v in existing.values()]).delete()
        changed = [name for name, value in before.items() if getattr(current, name) != value]
        if had != list(choices):
            changed.append("choices")
        if attribute is None or changed:
            verb = "added" if attribute is None else "changed"
            entry: dict[str, Any] = {"name": str(ServiceAttribute._meta.verbose_name)}
            entry["object"] = current.code
            if attribute is not None:
                entry["fields"] = [
                    _("Choix de réponse")
                    if name == "choices"
                    else field_labels(ServiceAttribute, [name])[0]
                    for name in changed
                ]
            catalog_history_record(
                viewer=viewer, item=service_type, action=CHANGE, message=[{verb: entry}]
            )
    return current


def service_attribute_move(*, viewer: Viewer, attribute: ServiceAttribute, step: int) -> None:
    """Move a question up (`step` -1) or down (+1) among its type's; the orders become 0…n-1."""
    _refuse_unless_editor(viewer)
    with transaction.atomic():
        siblings = list(
            ServiceAttribute.objects.select_for_update()
            .filter(service_type_id=attribute.service_type_id)
            .order_by("order", "id")
        )
        at = next(i for i, sibling in enumerate(siblings) if sibling.pk == attribute.pk)
        to = at + step
        if 0 <= to < len(siblings):
            siblings[at], siblings[to] = siblings[to], siblings[at]
        for order, sibling in enumerate(siblings):
            if sibling.order != order:
                sibling.order = order
                sibling.save(update_fields=["order"])
        catalog_history_record(
            viewer=viewer,
            item=attribute.service_type,
            action=CHANGE,
            message=_("Ordre des questions modifié."),
        )


def service_attribute_delete(*, viewer: Viewer, attribute: ServiceAttribute) -> None:
    """Remove a question and its choices. The answers already given to it stay on the requests
    (they are part of what the citizen said)."""
    _refuse_unless_editor(viewer)
    with transaction.atomic():
        service_type = attribute.service_type
        code = attribute.code
        ServiceAttribute.objects.filter(pk=attribute.pk).delete()
        catalog_history_record(
            viewer=viewer,
            item=service_type,
            action=CHANGE,
            message=[
                {"deleted": {"name": str(ServiceAttribute._meta.verbose_name), "object": code}}
            ],
        )


def routing_rule_save(
    *,
    viewer: Viewer,
    rule: RoutingRule | None,
    sector: Sector,
    service_type: ServiceType | None,
    department: Department,
) -> RoutingRule:
    """Send a sector's requests (of one type, or of every type when `service_type` is None) to
    `department`. Raises CrmError `invalid_routing_rule` when the sector already has a rule for
    that type."""
    _refuse_unless_editor(viewer)
    with transaction.atomic():
        current = rule or RoutingRule()
        current.sector, current.service_type, current.department = (
            sector,
            service_type,
            department,
        )
        try:
            current.full_clean()
        except ValidationError as error:
            raise _first_error(error, CrmErrorCode.INVALID_ROUTING_RULE) from error
        current.save()
        catalog_history_record(
            viewer=viewer,
            item=current,
            action=ADDITION if rule is None else CHANGE,
            message=[{"added": {}}]
            if rule is None
            else [{"changed": {"fields": field_labels(RoutingRule, ["department"])}}],
        )
    return current


def routing_rule_delete(*, viewer: Viewer, rule: RoutingRule) -> None:
    _refuse_unless_editor(viewer)
    with transaction.atomic():
        catalog_history_record(viewer=viewer, item=rule, action=DELETION, message="")
        RoutingRule.objects.filter(pk=rule.pk).delete()


def upstream_decide(
    *, viewer: Viewer, kind: str, item_id: int, token: str, accept: bool
) -> upstream.UpstreamChange:
    """Accept or ignore the host city's update of one copied item (`crm.upstream`), and record
    the decision in the item's history as the admin's page does.

    Raises CrmError as `upstream_accept` and `upstream_ignore` do (nothing pending any more,
    changed again at the host since the page was shown, refused by this town's validation)."""
    _refuse_unless_editor(viewer)
    with transaction.atomic():
        decide = upstream.upstream_accept if accept else upstream.upstream_ignore
        change = decide(actor=viewer.user, kind=kind, item_id=item_id, token=token)
        message = (
            _("Mise à jour de la ville hôte acceptée : « {title} ».")
            if accept
            else _("Mise à jour de la ville hôte ignorée : « {title} ».")
        ).format(title=change.title)
        catalog_history_record(
            viewer=viewer,
            item=upstream.upstream_item(kind=change.kind, item_id=item_id),
            action=CHANGE,
            message=message,
        )
    return change
