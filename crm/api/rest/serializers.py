"""REST API serializers: one for input, one for output, per resource. Validation of the domain
rules stays in crm.services; these only parse and shape."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import (
    Channel,
    Citizen,
    FaqAudience,
    Interaction,
    Priority,
    RequestEvent,
    RequestStatus,
    ServiceAttribute,
    ServiceRequest,
    ServiceType,
)

LANGUAGES = Citizen._meta.get_field("preferred_language").choices

# --- Catalog -------------------------------------------------------------------------------------


class AttributeValueOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class AttributeOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.SerializerMethodField()
    datatype = serializers.CharField()
    required = serializers.BooleanField()
    order = serializers.IntegerField()
    values = serializers.SerializerMethodField()

    def get_label(self, attribute: ServiceAttribute) -> str:
        return attribute.localized("label")

    @extend_schema_field(AttributeValueOut(many=True))
    def get_values(self, attribute: ServiceAttribute) -> list[dict[str, str]]:
        return [
            {"key": value.key, "name": value.localized("name")} for value in attribute.values.all()
        ]


class ServiceTypeOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    kind = serializers.CharField()
    category = serializers.SerializerMethodField()
    department = serializers.CharField(source="department.code")
    location_required = serializers.BooleanField()
    default_priority = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    attributes = AttributeOut(many=True)

    def get_name(self, service_type: ServiceType) -> str:
        return service_type.localized("name")

    def get_description(self, service_type: ServiceType) -> str:
        return service_type.localized("description")

    def get_category(self, service_type: ServiceType) -> str | None:
        category = service_type.category
        return category.localized("name") if category else None


# --- Information bank ----------------------------------------------------------------------------


class FaqSearchIn(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text=_("Mots cherchés"))
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class FaqHitOut(serializers.Serializer):
    id = serializers.IntegerField(source="article.pk")
    question = serializers.CharField()
    answer = serializers.SerializerMethodField()
    snippet_html = serializers.CharField(
        help_text=_("Extrait en HTML échappé, mots trouvés entre <mark>")
    )
    audience = serializers.ChoiceField(choices=FaqAudience.choices, source="article.audience")
    rank = serializers.FloatField()

    def get_answer(self, hit: Any) -> str:
        return str(hit.article.localized("answer"))


# --- Requests ------------------------------------------------------------------------------------


_COORDINATE = serializers.DecimalField(max_digits=9, decimal_places=6)
_DATETIME = serializers.DateTimeField()


def _datetime(value: Any) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


class RequestEventOut(serializers.Serializer):
    kind = serializers.CharField()
    visibility = serializers.CharField()
    message = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, event: RequestEvent) -> dict[str, Any]:
        return {
            "kind": event.kind,
            "visibility": event.visibility,
            "message": event.message,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "created_at": _datetime(event.created_at),
        }


class RequestOut(serializers.Serializer):
    number = serializers.CharField()
    service_code = serializers.CharField(source="service_type.code")
    service_name = serializers.SerializerMethodField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    description = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    department = serializers.CharField(source="department.code")
    media_url = serializers.CharField()
    attributes = serializers.DictField()
    duplicate_of = serializers.CharField(source="duplicate_of.number", allow_null=True)
    sla_due_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    # Staff only (removed for citizens and keys by the view).
    assignee = serializers.EmailField(
        source="assignee.email", allow_null=True, required=False, help_text=_("Personnel")
    )
    channel_detail = serializers.CharField(required=False, help_text=_("Personnel"))
    citizen_id = serializers.IntegerField(allow_null=True, required=False, help_text=_("Personnel"))

    STAFF_ONLY = ("assignee", "channel_detail", "citizen_id")

    def get_service_name(self, service_request: ServiceRequest) -> str:
        return service_request.service_type.localized("name")

    def to_representation(self, instance: ServiceRequest) -> dict[str, Any]:
        """The fields declared above, written out: DRF's generic path copies every declared
        field at each use, the larger part of a request list's or an intake's time. A test
        holds the two to the same output (tests/crm/test_api_representation.py)."""
        r = instance
        data: dict[str, Any] = {
            "number": r.number,
            "service_code": r.service_type.code,
            "service_name": self.get_service_name(r),
            "kind": str(r.kind),
            "status": str(r.status),
            "priority": str(r.priority),
            "description": r.description,
            "address": r.address,
            "latitude": None if r.latitude is None else _COORDINATE.to_representation(r.latitude),
            "longitude": (
                None if r.longitude is None else _COORDINATE.to_representation(r.longitude)
            ),
            "channel": str(r.channel),
            "department": r.department.code,
            "media_url": r.media_url,
            "attributes": {str(key): value for key, value in r.attributes.items()},
            "duplicate_of": r.duplicate_of.number if r.duplicate_of else None,
            "sla_due_at": _datetime(r.sla_due_at),
            "created_at": _datetime(r.created_at),
            "updated_at": _datetime(r.updated_at),
        }
        if self.context.get("staff"):
            data["assignee"] = r.assignee.email if r.assignee else None
            data["channel_detail"] = r.channel_detail
            data["citizen_id"] = r.citizen_id
        return data


class RequestDetailOut(RequestOut):
    tracking_token = serializers.CharField(required=False)
    timeline = serializers.SerializerMethodField()

    def to_representation(self, instance: ServiceRequest) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["tracking_token"] = instance.tracking_token
        data["timeline"] = self.get_timeline(instance)
        return data

    @extend_schema_field(RequestEventOut(many=True))
    def get_timeline(self, service_request: ServiceRequest) -> Any:
        """The events the caller may read, given by the view (`context["events"]`)."""
        return RequestEventOut(self.context["events"], many=True).data


class RequestViewIn(serializers.Serializer):
    purpose = serializers.CharField(
        max_length=200,
        required=False,
        help_text=_(
            "Personnel : pourquoi ces renseignements sont consultés, inscrit au journal des "
            "accès (Loi 25). Par défaut, déduit de la requête consultée."
        ),
    )


class RequestCreateIn(serializers.Serializer):
    service_code = serializers.CharField(max_length=60)
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True
    )
    attributes = serializers.DictField(required=False)
    media_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    # Staff only: the channel the citizen used, the citizen, the priority.
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    citizen_id = serializers.IntegerField(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)


class StatusChangeIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    message = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class AssignmentIn(serializers.Serializer):
    department = serializers.CharField(max_length=40, required=False)
    assignee = serializers.EmailField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("department") and not attrs.get("assignee"):
            raise serializers.ValidationError(_("Donnez un service, une personne, ou les deux."))
        return attrs


class MessageIn(serializers.Serializer):
    message = serializers.CharField(max_length=4000)


class EventOut(RequestEventOut):
    pass


# --- Citizens and interactions (staff) -----------------------------------------------------------


class CitizenOut(serializers.ModelSerializer):
    # Often blank (a citizen known by phone only): not documented as an e-mail format.
    email = serializers.CharField(
        read_only=True, label=Citizen._meta.get_field("email").verbose_name
    )

    class Meta:
        model = Citizen
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "address",
            "preferred_language",
            "notify_by_email",
            "notify_by_sms",
            "notify_by_phone",
            "created_at",
        ]
        read_only_fields = fields


class CitizenIn(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    preferred_language = serializers.ChoiceField(choices=LANGUAGES, required=False)


class CitizenSearchIn(serializers.Serializer):
    q = serializers.CharField(max_length=100, required=False, allow_blank=True)
    purpose = serializers.CharField(
        max_length=200, help_text=_("Pourquoi ces renseignements sont consultés (Loi 25)")
    )


class CitizenViewIn(serializers.Serializer):
    purpose = serializers.CharField(
        max_length=200, help_text=_("Pourquoi ce dossier est consulté (Loi 25)")
    )


class InteractionOut(serializers.ModelSerializer):
    citizen_id = serializers.IntegerField(allow_null=True)
    request_number = serializers.CharField(source="request.number", allow_null=True)
    agent = serializers.EmailField(source="agent.email", allow_null=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "channel",
            "summary",
            "citizen_id",
            "request_number",
            "agent",
            "duration_seconds",
            "resolved_at_first_contact",
            "created_at",
        ]
        read_only_fields = fields


class InteractionIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    summary = serializers.CharField(max_length=2000)
    citizen_id = serializers.IntegerField(required=False, allow_null=True)
    request_number = serializers.CharField(max_length=16, required=False, allow_blank=True)
    faq_article_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=20
    )
    duration_seconds = serializers.IntegerField(min_value=0, max_value=86400, default=0)
    resolved_at_first_contact = serializers.BooleanField(default=False)


# --- The citizen's own data ----------------------------------------------------------------------


class PreferencesSerializer(serializers.Serializer):
    preferred_language = serializers.ChoiceField(choices=LANGUAGES, required=False)
    notify_by_email = serializers.BooleanField(required=False)
    notify_by_sms = serializers.BooleanField(required=False)
    notify_by_phone = serializers.BooleanField(required=False)


class ApiErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)


class ApiErrorEnvelope(serializers.Serializer):
    error = ApiErrorOut()
