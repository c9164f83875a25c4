"""Reads of alerts: the ones in force (the portal's page), the recent ones with how many people
each reached (the workspace), the topics and sectors offered, and a citizen's subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet

from crm.models import Alert, AlertSubscription, AlertTopic, Citizen, Sector

__all__ = [
    "ALERT_SHOWN_DAYS",
    "AlertChoices",
    "alert_sectors",
    "alert_subscriptions_of",
    "alert_topics",
    "alerts_current",
    "alerts_recent",
]

# An alert without an end is shown this many days after it is published.
ALERT_SHOWN_DAYS = 14
CURRENT_ALERTS = 30
RECENT_ALERTS = 25


def _with_sectors() -> Prefetch:
    return Prefetch(
        "sectors", queryset=Sector.objects.order_by("name_fr").only("code", "name_fr", "name_en")
    )


def alerts_current(*, now: datetime, topic: AlertTopic | None = None) -> list[Alert]:
    """The alerts in force at `now`, newest first: those whose end is still ahead, and those
    without an end published in the last ALERT_SHOWN_DAYS days; of one topic when given."""
    alerts = Alert.objects.filter(
        Q(ends_at__gt=now)
        | Q(ends_at__isnull=True, published_at__gte=now - timedelta(days=ALERT_SHOWN_DAYS)),
        published_at__lte=now,
    )
    if topic is not None:
        alerts = alerts.filter(topic=topic)
    return list(alerts.select_related("topic").prefetch_related(_with_sectors())[:CURRENT_ALERTS])


def alerts_recent() -> list[Alert]:
    """The latest alerts, whatever their end, each with `reached`: how many messages it wrote."""
    alerts = Alert.objects.select_related("topic", "published_by").annotate(
        reached=Count("notifications")
    )
    return list(alerts.prefetch_related(_with_sectors())[:RECENT_ALERTS])


def alert_topics() -> QuerySet[AlertTopic]:
    """The topics offered to subscribers and publishers (a form's choices)."""
    return AlertTopic.objects.filter(is_active=True)


def alert_sectors() -> QuerySet[Sector]:
    """The town's sectors, by name (a form's choices; the boundaries are left out)."""
    return Sector.objects.defer("boundary").order_by("name_fr", "id")


@dataclass(frozen=True)
class AlertChoices:
    topics: frozenset[int]
    sectors: frozenset[int]  # empty: anywhere in town


def alert_subscriptions_of(*, citizen: Citizen) -> AlertChoices:
    """The topics and sectors the citizen follows (`alert_subscriptions_set` writes every topic
    in every sector, so the two sets describe them all)."""
    rows = AlertSubscription.objects.filter(citizen=citizen).values_list("topic_id", "sector_id")
    return AlertChoices(
        topics=frozenset(topic for topic, _sector in rows),
        sectors=frozenset(sector for _topic, sector in rows if sector is not None),
    )
