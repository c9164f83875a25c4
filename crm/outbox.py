"""Sending the outbox: each message once, and only once.

A message (a `Notification` row) is written by a service in the same transaction as the change
it tells about, with the task that sends it (`delivery_enqueue`): with the database task
backend both commit together, so a change is never kept without its message, nor a message
sent for a change that was rolled back.

`notification_deliver` sends one message. While it works it holds a session advisory lock
keyed on the message: a second task for the same message does nothing, and PostgreSQL
releases the lock the moment the sender's session ends, however it ends. The row goes
PENDING → SENDING (committed before anything is sent) → SENT, and on the way records
`handed_over_at` when the content is handed to the server (SMTP's DATA, `crm/mail.py`):

- the server refused (a 4xx answer, unreachable, a timeout before DATA): PENDING again, sent
  later with back-off (`RETRY_DELAYS`), FAILED after `MAX_ATTEMPTS`;
- the server refused for good (5xx for the address or the content): FAILED;
- the sender stopped (killed, the machine lost) or the connection broke after the hand-over
  and before the server's answer: the message may have left. It is marked UNCERTAIN and never
  sent again on its own, so nobody receives it twice; the staff see it on the request page.
  A message found SENDING by the next task was abandoned (its lock was free): without a
  hand-over it surely did not leave and is sent; with one it becomes UNCERTAIN.
"""

from __future__ import annotations

import logging
import smtplib
import zlib
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tasks_db import DatabaseBackend

from crm.mail import HandoverSMTPBackend
from crm.models import (
    EventKind,
    Notification,
    NotificationChannel,
    NotificationStatus,
    RequestEvent,
    Visibility,
)
from crm.sms import SmsRefusedError, SmsTemporaryError, sms_sender
from tenants.db import connection
from tenants.models import Municipality
from tenants.services import town_sender

logger = logging.getLogger(__name__)

# pg_locks.classid of a message being sent; objid is the crc32 of "<schema>:<id>".
SENDING_LOCK_CLASS = 0x4E4F5449  # "NOTI"
# Seconds to wait after the n-th failed attempt; the last delay repeats.
RETRY_DELAYS = (60, 5 * 60, 15 * 60, 60 * 60, 3 * 3600, 6 * 3600)
MAX_ATTEMPTS = 10  # about 34 hours of tries


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    BUSY = "busy"  # another task is sending it
    NOT_DUE = "not_due"  # waiting for its next attempt
    DONE = "done"  # nothing left to do (sent, failed, uncertain, or gone)


class _Refused(Exception):
    """The server answered no, for good."""


class _Temporary(Exception):
    """The message did not leave; trying later may work."""


class _Unknown(Exception):
    """The message was handed over and no answer came: it may have left."""


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1])


def _int4(value: int) -> int:
    return value - 2**32 if value >= 2**31 else value


def _lock_key(notification_id: int) -> tuple[int, int]:
    key = zlib.crc32(f"{connection.schema_name}:{notification_id}".encode())
    return _int4(SENDING_LOCK_CLASS), _int4(key)


def delivery_enqueue(*, notification_id: int, run_after: datetime | None = None) -> None:
    """Queue the task that sends a message. With the database backend the task is written in
    the caller's transaction (both commit or neither); another backend is called once the
    transaction commits. A backend that cannot defer leaves a later attempt to the sweep
    (`notifications_send_due`)."""
    from crm.tasks import deliver_notification

    task = deliver_notification
    backend = task.get_backend()
    if run_after is not None:
        if not backend.supports_defer:
            return
        task = task.using(run_after=run_after)
    arguments = {"schema_name": connection.schema_name, "notification_id": notification_id}
    if isinstance(backend, DatabaseBackend):
        task.enqueue(**arguments)
    else:
        transaction.on_commit(lambda: task.enqueue(**arguments))


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> Outcome:
    """Send one message if it is due and not being sent; returns what happened."""
    lock = _lock_key(notification_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", lock)
        if not cursor.fetchone()[0]:
            return Outcome.BUSY
    try:
        return _deliver_locked(notification_id, now or timezone.now())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", lock)


def _deliver_locked(notification_id: int, now: datetime) -> Outcome:
    message = Notification.objects.filter(pk=notification_id).first()
    if message is None or message.status in (
        NotificationStatus.SENT,
        NotificationStatus.FAILED,
        NotificationStatus.UNCERTAIN,
    ):
        return Outcome.DONE
    if message.status == NotificationStatus.SENDING and message.handed_over_at is not None:
        # Its sender stopped after handing it over: it may have left.
        message.status = NotificationStatus.UNCERTAIN
        message.last_error = "sender stopped after the hand-over"
        message.save(update_fields=["status", "last_error"])
        logger.warning("notification %s uncertain: sender stopped after hand-over", message.pk)
        return Outcome.UNCERTAIN
    if (
        message.status == NotificationStatus.PENDING
        and message.next_attempt_at is not None
        and message.next_attempt_at > now
    ):
        return Outcome.NOT_DUE
    message.status = NotificationStatus.SENDING
    message.attempts += 1
    message.save(update_fields=["status", "attempts"])
    try:
        _send(message)
    except _Unknown as error:
        return _settle(message, Outcome.UNCERTAIN, str(error), now)
    except _Refused as error:
        return _settle(message, Outcome.FAILED, str(error), now)
    except _Temporary as error:
        if message.attempts >= MAX_ATTEMPTS:
            return _settle(message, Outcome.FAILED, f"{error} (last attempt)", now)
        return _settle(message, Outcome.RETRY, str(error), now)
    return _settle(message, Outcome.SENT, "", now)


def _settle(message: Notification, outcome: Outcome, error: str, now: datetime) -> Outcome:
    message.last_error = error[:200]
    with transaction.atomic():
        if outcome == Outcome.SENT:
            message.status = NotificationStatus.SENT
            message.sent_at = timezone.now()
            if message.request_id is not None:
                with override(settings.LANGUAGE_CODE):
                    text = _("Avis « {kind} » envoyé par {channel}.").format(
                        kind=message.get_kind_display(),
                        channel=message.get_channel_display().lower(),
                    )
                RequestEvent.objects.create(
                    request_id=message.request_id,
                    kind=EventKind.NOTIFICATION_SENT,
                    visibility=Visibility.INTERNAL,
                    message=text,
                    data={"notification": message.pk, "channel": message.channel},
                )
        elif outcome == Outcome.RETRY:
            message.status = NotificationStatus.PENDING
            message.next_attempt_at = now + retry_delay(message.attempts)
            delivery_enqueue(notification_id=message.pk, run_after=message.next_attempt_at)
        elif outcome == Outcome.FAILED:
            message.status = NotificationStatus.FAILED
        else:
            message.status = NotificationStatus.UNCERTAIN
        message.save(
            update_fields=["status", "sent_at", "next_attempt_at", "last_error", "handed_over_at"]
        )
    if outcome != Outcome.SENT:
        logger.warning(
            "notification %s %s after %s attempt(s): %s",
            message.pk,
            outcome,
            message.attempts,
            message.last_error,
        )
    return outcome


def _handed_over(message: Notification) -> None:
    message.handed_over_at = timezone.now()
    Notification.objects.filter(pk=message.pk).update(handed_over_at=message.handed_over_at)


def _send(message: Notification) -> None:
    if message.channel == NotificationChannel.SMS:
        _send_sms(message)
    else:
        _send_email(message)


def _send_sms(message: Notification) -> None:
    # A provider is given the message's key as its idempotency key (crm/sms.py): a call cut
    # off is tried again rather than left uncertain.
    try:
        sms_sender().send(to=message.recipient, body=message.body_text, reference=str(message.key))
    except SmsRefusedError as error:
        raise _Refused(f"SMS refused: {type(error).__name__}") from error
    except (SmsTemporaryError, OSError) as error:
        raise _Temporary(f"SMS not accepted: {type(error).__name__}") from error


def _send_email(message: Notification) -> None:
    backend = get_connection(fail_silently=False)
    if isinstance(backend, HandoverSMTPBackend):
        backend.before_data = lambda: _handed_over(message)
    else:
        # No way to know when it leaves: a stop during the send counts as a hand-over.
        _handed_over(message)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">") or "relais"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=town_sender(
            Municipality.objects.filter(schema_name=connection.schema_name).first()
        ),
        to=[message.recipient],
        connection=backend,
        headers={
            # The same message keeps the same id: a mail client shows a copy only once.
            "Message-ID": f"<{message.key}@{domain}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _reply in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise _Refused(f"SMTP {codes[0]} for the recipient") from error
        raise _Temporary(f"SMTP {codes[0] if codes else '?'} for the recipient") from error
    except smtplib.SMTPResponseException as error:
        # An answer from the server: whatever the stage, the message was not accepted.
        if error.smtp_code >= 500 and message.handed_over_at is not None:
            raise _Refused(f"SMTP {error.smtp_code} for the message") from error
        raise _Temporary(f"SMTP {error.smtp_code}") from error
    except (smtplib.SMTPException, OSError) as error:
        if message.handed_over_at is not None:
            raise _Unknown(f"no answer after the hand-over: {type(error).__name__}") from error
        raise _Temporary(f"not sent: {type(error).__name__}") from error


def notifications_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """The safety net, for a town: send what is due and was not sent (a task lost or failed,
    a backend that cannot defer). Run by `manage.py send_notifications`."""
    now = now or timezone.now()
    due = Notification.objects.filter(
        Q(status=NotificationStatus.PENDING, next_attempt_at__isnull=True)
        | Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=NotificationStatus.SENDING)
    ).values_list("pk", flat=True)
    counts: dict[str, int] = {}
    for notification_id in list(due):
        outcome = notification_deliver(notification_id=notification_id, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
