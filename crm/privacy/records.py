"""Reads for Law 25: the records that make up one person, and everything the town holds on
them as a structured document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import connection
from django.db.models import Prefetch, Q
from django.utils import timezone

from crm.models import (
    OPEN_STATUSES,
    AccessLog,
    AlertSubscription,
    Citizen,
    CitizenChange,
    CitizenMerge,
    Consent,
    Interaction,
    Notification,
    RequestAttachment,
    RequestEvent,
    RequestSubscription,
    ServiceRequest,
    Visibility,
)
from tenants.accounts.models import User
from tenants.models import Municipality

EXPORT_FORMAT = "relais.citizen-export"
# 2: followed requests, alert subscriptions and the messages sent to the person.
EXPORT_VERSION = 2
MAX_MERGE_DEPTH = 10


def citizen_record_group(*, citizen: Citizen) -> list[int]:
    """The ids of every record of this person: the record others were merged into (first),
    then every record merged into it, however deep. A merged record leads to its group."""
    root_id = citizen.pk
    for _hop in range(MAX_MERGE_DEPTH):  # read from the database: the instance may be stale
        parent_id = Citizen.objects.filter(pk=root_id).values_list("merged_into_id", flat=True)[0]
        if parent_id is None:
            break
        root_id = parent_id
    group, frontier = [root_id], [root_id]
    while frontier:
        frontier = list(
            Citizen.objects.filter(merged_into_id__in=frontier)
            .exclude(pk__in=group)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        group += frontier
    return group


def citizen_requests(*, citizen_ids: list[int]) -> list[ServiceRequest]:
    return list(
        ServiceRequest.objects.filter(citizen_id__in=citizen_ids)
        .select_related(
            "service_type", "department", "sector", "duplicate_of", "assignee", "satisfaction"
        )
        .prefetch_related(
            Prefetch(
                "events",
                queryset=RequestEvent.objects.select_related("actor").order_by("created_at", "id"),
            ),
            Prefetch("attachments", queryset=RequestAttachment.objects.order_by("id")),
        )
        .order_by("created_at", "id")
    )


def citizen_interactions(*, citizen_ids: list[int], request_ids: list[int]) -> list[Interaction]:
    """Contacts with the person, and contacts about their requests."""
    return list(
        Interaction.objects.filter(Q(citizen_id__in=citizen_ids) | Q(request_id__in=request_ids))
        .select_related("request", "agent", "department")
        .prefetch_related("faq_articles")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class AnonymisationPreview:
    """What anonymising a person would touch, shown before it is confirmed."""

    citizen_id: int
    records: int
    requests: int
    open_requests: int
    interactions: int
    has_account: bool
    staff_account: bool
    anonymised: bool


def anonymisation_preview(*, citizen: Citizen) -> AnonymisationPreview:
    group = citizen_record_group(citizen=citizen)
    requests = ServiceRequest.objects.filter(citizen_id__in=group)
    request_ids = list(requests.values_list("pk", flat=True))
    accounts = User.objects.filter(citizen__pk__in=group)
    root = Citizen.objects.get(pk=group[0])
    return AnonymisationPreview(
        citizen_id=root.pk,
        records=len(group),
        requests=len(request_ids),
        open_requests=requests.filter(status__in=OPEN_STATUSES).count(),
        interactions=Interaction.objects.filter(
            Q(citizen_id__in=group) | Q(request_id__in=request_ids)
        ).count(),
        has_account=accounts.exists(),
        staff_account=accounts.filter(is_staff=True).exists(),
        anonymised=root.anonymised_at is not None,
    )


# --- The export document -------------------------------------------------------------------------
def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _email(user: User | None) -> str | None:
    return user.email if user is not None else None


def _citizen(citizen: Citizen) -> dict[str, Any]:
    return {
        "id": citizen.pk,
        "first_name": citizen.first_name,
        "last_name": citizen.last_name,
        "email": citizen.email,
        "phone": citizen.phone,
        "address": citizen.address,
        "preferred_language": citizen.preferred_language,
        "notify_by_email": citizen.notify_by_email,
        "notify_by_sms": citizen.notify_by_sms,
        "notify_by_phone": citizen.notify_by_phone,
        "merged_into": citizen.merged_into_id,
        "created_at": _value(citizen.created_at),
        "updated_at": _value(citizen.updated_at),
        "anonymised_at": _value(citizen.anonymised_at),
    }


def _event(event: RequestEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "visibility": event.visibility,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "message": event.message,
        "data": event.data,
        "actor": _email(event.actor),
        "created_at": _value(event.created_at),
    }


def _request(service_request: ServiceRequest) -> dict[str, Any]:
    return {
        "number": service_request.number,
        "citizen": service_request.citizen_id,
        "service_code": service_request.service_type.code,
        "service_name": service_request.service_type.name_fr,
        "kind": service_request.kind,
        "status": service_request.status,
        "priority": service_request.priority,
        "description": service_request.description,
        "address": service_request.address,
        "latitude": _value(service_request.latitude),
        "longitude": _value(service_request.longitude),
        "sector": service_request.sector.code if service_request.sector else None,
        "channel": service_request.channel,
        "channel_detail": service_request.channel_detail,
        "attributes": service_request.attributes,
        "media_url": service_request.media_url,
        "department": service_request.department.code,
        "assignee": _email(service_request.assignee),
        "duplicate_of": (
            service_request.duplicate_of.number if service_request.duplicate_of else None
        ),
        "cancellation_reason": service_request.cancellation_reason,
        "tracking_token": service_request.tracking_token,
        "first_contact_resolution": service_request.first_contact_resolution,
        "sla_due_at": _value(service_request.sla_due_at),
        "created_at": _value(service_request.created_at),
        "resolved_at": _value(service_request.resolved_at),
        "closed_at": _value(service_request.closed_at),
        "anonymised_at": _value(service_request.anonymised_at),
        "timeline": [_event(event) for event in service_request.events.all()],
        # The files themselves stay in the town's private storage: what they are, not their bytes.
        "attachments": [
            {
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "added_at": _value(attachment.uploaded_at),
            }
            for attachment in service_request.attachments.all()
        ],
        "satisfaction": _satisfaction(service_request),
    }


def _satisfaction(service_request: ServiceRequest) -> dict[str, Any] | None:
    """The person's answer to the request's survey, if they gave one."""
    answer = getattr(service_request, "satisfaction", None)
    if answer is None:
        return None
    return {
        "score": answer.score,
        "comment": answer.comment,
        "language": answer.language,
        "created_at": _value(answer.created_at),
    }


def _interaction(interaction: Interaction) -> dict[str, Any]:
    return {
        "id": interaction.pk,
        "citizen": interaction.citizen_id,
        "channel": interaction.channel,
        "summary": interaction.summary,
        "request": interaction.request.number if interaction.request else None,
        "department": interaction.department.code if interaction.department else None,
        "agent": _email(interaction.agent),
        "faq_articles": sorted(article.pk for article in interaction.faq_articles.all()),
        "duration_seconds": interaction.duration_seconds,
        "resolved_at_first_contact": interaction.resolved_at_first_contact,
        "created_at": _value(interaction.created_at),
    }


def _account(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "preferred_language": user.preferred_language,
        "is_active": user.is_active,
        "date_joined": _value(user.date_joined),
        "last_login": _value(user.last_login),
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "second_factors": sorted(
            Authenticator.objects.filter(user=user).values_list("type", flat=True)
        ),
    }


def citizen_data(*, citizen: Citizen) -> dict[str, Any]:
    """Everything the town holds on this person, as a JSON-ready document: their records
    (merged ones included), consents, merges, requests with their whole timeline, interactions,
    account, and the access log's entries about them."""
    group = citizen_record_group(citizen=citizen)
    records = {record.pk: record for record in Citizen.objects.filter(pk__in=group)}
    requests = citizen_requests(citizen_ids=group)
    interactions = citizen_interactions(
        citizen_ids=group, request_ids=[service_request.pk for service_request in requests]
    )
    accounts = User.objects.filter(citizen__pk__in=group).order_by("pk")
    schema = str(getattr(connection, "schema_name", ""))
    town = Municipality.objects.filter(schema_name=schema).first()
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "municipality": town.name if town else schema,
        "exported_at": _value(timezone.now()),
        "citizen": _citizen(records[group[0]]),
        "merged_records": [_citizen(records[pk]) for pk in group[1:]],
        "merges": [
            {
                "kept": merge.kept_id,
                "merged": merge.merged_id,
                "moved": merge.moved,
                "actor": _email(merge.actor),
                "merged_at": _value(merge.merged_at),
            }
            for merge in CitizenMerge.objects.filter(Q(kept_id__in=group) | Q(merged_id__in=group))
            .select_related("actor")
            .order_by("merged_at", "pk")
        ],
        "changes": [
            {
                "citizen": change.citizen_id,
                "created": change.created,
                "fields": change.fields,
                "actor": _email(change.actor),
                "changed_at": _value(change.changed_at),
            }
            for change in CitizenChange.objects.filter(citizen_id__in=group)
            .select_related("actor")
            .order_by("changed_at", "pk")
        ],
        "consents": [
            {
                "citizen": consent.citizen_id,
                "purpose": consent.purpose,
                "granted": consent.granted,
                "channel": consent.channel,
                "recorded_by": _email(consent.recorded_by),
                "recorded_at": _value(consent.recorded_at),
            }
            for consent in Consent.objects.filter(citizen_id__in=group)
            .select_related("recorded_by")
            .order_by("recorded_at", "pk")
        ],
        "requests": [_request(service_request) for service_request in requests],
        "followed_requests": [
            {
                "citizen": followed.citizen_id,
                "number": followed.request.number,
                "followed_at": _value(followed.created_at),
            }
            for followed in RequestSubscription.objects.filter(citizen_id__in=group)
            .select_related("request")
            .order_by("created_at", "pk")
        ],
        "alert_subscriptions": [
            {
                "citizen": subscription.citizen_id,
                "topic": subscription.topic.code,
                "sector": subscription.sector.code if subscription.sector else None,
                "subscribed_at": _value(subscription.created_at),
            }
            for subscription in AlertSubscription.objects.filter(citizen_id__in=group)
            .select_related("topic", "sector")
            .order_by("created_at", "pk")
        ],
        "messages": [
            {
                "citizen": message.citizen_id,
                "kind": message.kind,
                "channel": message.channel,
                "recipient": message.recipient,
                "language": message.language,
                "subject": message.subject,
                "text": message.body_text,
                "status": message.status,
                "written_at": _value(message.created_at),
                "sent_at": _value(message.sent_at),
            }
            for message in Notification.objects.filter(citizen_id__in=group).order_by(
                "created_at", "pk"
            )
        ],
        "interactions": [_interaction(interaction) for interaction in interactions],
        "accounts": [_account(user) for user in accounts],
        "access_log": [
            {
                "citizen": entry.citizen_id,
                "action": entry.action,
                "purpose": entry.purpose,
                "context": entry.context,
                "details": entry.details,
                "actor": _email(entry.actor),
                "accessed_at": _value(entry.accessed_at),
            }
            for entry in AccessLog.objects.filter(citizen_id__in=group)
            .select_related("actor")
            .order_by("accessed_at", "pk")
        ],
    }


# What a person downloads themself (the portal) leaves out what the town holds about others: the
# internal timeline (staff notes), contacts about their requests made by other people, and who
# among the staff did what ("ville" instead of an employee's address).
STAFF = "ville"


def person_copy(document: dict[str, Any]) -> dict[str, Any]:
    """The export `document` as its person downloads it without review (see STAFF)."""
    own = {account["email"] for account in document["accounts"]}
    records = {document["citizen"]["id"]} | {r["id"] for r in document["merged_records"]}

    def who(email: str | None) -> str | None:
        return email if email is None or email in own else STAFF

    copy = dict(document, audience="person")
    copy["requests"] = [
        dict(
            request,
            assignee=None,
            timeline=[
                dict(event, actor=who(event["actor"]))
                for event in request["timeline"]
                if event["visibility"] == Visibility.PUBLIC
            ],
        )
        for request in document["requests"]
    ]
    copy["interactions"] = [
        dict(interaction, agent=who(interaction["agent"]))
        for interaction in document["interactions"]
        if interaction["citizen"] in records
    ]
    for key, field in (
        ("merges", "actor"),
        ("changes", "actor"),
        ("consents", "recorded_by"),
        ("access_log", "actor"),
    ):
        copy[key] = [dict(row, **{field: who(row[field])}) for row in document[key]]
    return copy
