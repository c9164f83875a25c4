"""Notifications: written in the transaction of the change, by the channel the citizen chose,
in their language; sent once through a real SMTP server on loopback, retried while it refuses,
never sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from crm import services
from crm.models import (
    ConsentPurpose,
    EventKind,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    RequestSubscription,
)
from crm.outbox import (
    MAX_ATTEMPTS,
    Outcome,
    _lock_key,
    notification_deliver,
    notifications_send_due,
)
from crm.sms import MemorySmsSender
from tests.factories import CitizenFactory, ServiceRequestFactory, ServiceTypeFactory
from tests.smtp import body_html, body_text, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox():
    with smtp_server() as box, override_settings(**box.settings()):
        yield box


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    MemorySmsSender.outbox.clear()


def _messages(**filters) -> list[Notification]:
    return list(Notification.objects.filter(**filters).order_by("id"))


def test_a_new_request_writes_its_message_in_the_same_transaction_and_sends_it_once(
    in_laval, mailbox, django_capture_on_commit_callbacks
):
    citizen = CitizenFactory(first_name="Léa", email="lea@exemple.qc.ca")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        service_request = ServiceRequestFactory(citizen=citizen)
    (message,) = _messages()
    assert message.kind == NotificationKind.RECEIVED
    assert message.channel == NotificationChannel.EMAIL
    assert message.recipient == "lea@exemple.qc.ca"
    assert message.request == service_request
    assert message.status == NotificationStatus.PENDING
    assert mailbox.messages == []  # nothing leaves before the commit
    assert len(callbacks) == 1  # the task that sends it, queued at the commit

    assert notification_deliver(notification_id=message.pk) == Outcome.SENT
    (received,) = mailbox.messages
    assert received["To"] == "lea@exemple.qc.ca"
    assert received["Subject"] == f"Votre demande n° {service_request.number} est reçue"
    assert received["Message-ID"] == f"<{message.key}@localhost>"
    text = body_text(received)
    assert "Bonjour Léa," in text
    assert f"/suivi/{service_request.number}/?jeton={service_request.tracking_token}" in text
    assert "Ville de Laval" in text or "Laval" in text
    assert 'lang="fr"' in body_html(received)
    message.refresh_from_db()
    assert message.status == NotificationStatus.SENT
    assert message.attempts == 1
    assert service_request.events.filter(kind=EventKind.NOTIFICATION_SENT).count() == 1

    # The task run again (a retry, a second worker) sends nothing more.
    assert notification_deliver(notification_id=message.pk) == Outcome.DONE
    assert len(mailbox.messages) == 1


def test_public_reply_status_change_and_closure_are_told_internal_notes_are_not(in_laval, mailbox):
    citizen = CitizenFactory()
    service_request = ServiceRequestFactory(citizen=citizen)
    services.request_add_note(
        actor=None, service_request=service_request, message="Vu sur place.", public=False
    )
    services.request_add_note(
        actor=None,
        service_request=service_request,
        message="Une équipe passera <b>mardi</b>.",
        public=True,
    )
    services.request_change_status(actor=None, service_request=service_request, status="resolved")
    kinds = [message.kind for message in _messages()]
    assert kinds == [NotificationKind.RECEIVED, NotificationKind.REPLY, NotificationKind.CLOSED]
    for message in _messages():
        assert notification_deliver(notification_id=message.pk) == Outcome.SENT
    reply = mailbox.messages[1]
    assert "Une équipe passera <b>mardi</b>." in body_text(reply)
    # Typed by a person: inert in the HTML version.
    assert "&lt;b&gt;mardi&lt;/b&gt;" in body_html(reply)
    assert "<b>mardi</b>" not in body_html(reply)
    assert "Résolue" in body_text(mailbox.messages[2])


def test_the_citizens_choice_decides_the_channel_and_the_language(in_laval, mailbox):
    by_text = CitizenFactory(phone="4505550101")
    services.citizen_preferences_set(
        actor=None, citizen=by_text, choices={ConsentPurpose.REQUEST_FOLLOW_UP: "sms"}
    )
    silent = CitizenFactory()
    services.citizen_preferences_set(
        actor=None, citizen=silent, choices={ConsentPurpose.REQUEST_FOLLOW_UP: "none"}
    )
    english = CitizenFactory(preferred_language="en", first_name="Sam")
    no_address = CitizenFactory(email="", phone="")

    texted = ServiceRequestFactory(citizen=by_text)
    ServiceRequestFactory(citizen=silent)
    in_english = ServiceRequestFactory(citizen=english)
    ServiceRequestFactory(citizen=no_address)
    ServiceRequestFactory(citizen=None)

    sms, mail = _messages()
    assert (sms.channel, sms.recipient, sms.request) == ("sms", "4505550101", texted)
    assert (mail.channel, mail.language, mail.request) == ("email", "en", in_english)

    assert notification_deliver(notification_id=sms.pk) == Outcome.SENT
    (text,) = MemorySmsSender.outbox
    assert text["to"] == "4505550101"
    assert text["reference"] == str(sms.key)
    assert texted.number in text["body"]
    assert len(text["body"]) <= 480

    assert notification_deliver(notification_id=mail.pk) == Outcome.SENT
    (received,) = mailbox.messages
    assert received["Subject"] == f"Your request no. {in_english.number} was received"
    assert "Hello Sam," in body_text(received)
    assert f"/en/track/{in_english.number}/" in body_text(received)


def test_an_answer_at_first_contact_and_the_demo_history_write_nothing(in_laval):
    info = ServiceTypeFactory(kind="information")
    ServiceRequestFactory(service_type=info, citizen=CitizenFactory(), close_at_intake=True)
    with services.notifications_paused():
        ServiceRequestFactory(citizen=CitizenFactory(), status="closed")
    assert _messages() == []


def test_followers_are_told_of_progress_but_not_of_the_replies_to_the_author(in_laval):
    author, follower = CitizenFactory(), CitizenFactory(email="voisin@exemple.qc.ca")
    service_request = ServiceRequestFactory(citizen=author)
    RequestSubscription.objects.create(request=service_request, citizen=follower)
    services.request_add_note(
        actor=None, service_request=service_request, message="Pour vous.", public=True
    )
    services.request_change_status(
        actor=None, service_request=service_request, status="in_progress"
    )
    to_follower = _messages(recipient="voisin@exemple.qc.ca")
    assert [message.kind for message in to_follower] == [NotificationKind.STATUS]
    assert "Pour vous." not in to_follower[0].body_text
    assert service_request.tracking_token not in to_follower[0].body_text


def test_a_refusing_server_is_tried_again_later_and_the_message_leaves_once(in_laval, mailbox):
    citizen = CitizenFactory()
    ServiceRequestFactory(citizen=citizen)
    (message,) = _messages()
    mailbox.refuse_next = 2
    now = timezone.now()

    assert notification_deliver(notification_id=message.pk, now=now) == Outcome.RETRY
    message.refresh_from_db()
    assert message.status == NotificationStatus.PENDING
    assert message.next_attempt_at == now + timedelta(seconds=60)
    assert message.last_error == "SMTP 451"  # never the address
    # Not due yet: nothing is tried.
    assert notification_deliver(notification_id=message.pk, now=now) == Outcome.NOT_DUE
    assert mailbox.refused == 1

    later = now + timedelta(seconds=61)
    assert notification_deliver(notification_id=message.pk, now=later) == Outcome.RETRY
    message.refresh_from_db()
    assert message.next_attempt_at == later + timedelta(minutes=5)

    # The sweep (manage.py send_notifications) sends what is due.
    assert notifications_send_due(now=later + timedelta(minutes=6)) == {"sent": 1}
    assert mailbox.refused == 2
    assert len(mailbox.messages) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (NotificationStatus.SENT, 3)


def test_an_unreachable_server_is_a_retry_and_too_many_tries_a_failure(in_laval):
    ServiceRequestFactory(citizen=CitizenFactory())
    (message,) = _messages()
    closed = {**_closed_port_settings()}
    with override_settings(**closed):
        assert notification_deliver(notification_id=message.pk) == Outcome.RETRY
        message.refresh_from_db()
        assert message.last_error == "not sent: ConnectionRefusedError"
        assert message.handed_over_at is None
        Notification.objects.filter(pk=message.pk).update(
            attempts=MAX_ATTEMPTS - 1, next_attempt_at=None
        )
        assert notification_deliver(notification_id=message.pk) == Outcome.FAILED
    message.refresh_from_db()
    assert message.status == NotificationStatus.FAILED


def _closed_port_settings() -> dict[str, object]:
    from tests.processes import free_port

    return {
        "EMAIL_BACKEND": "crm.mail.HandoverSMTPBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": free_port(),
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 2,
    }


def test_an_address_refused_for_good_fails_without_retry(in_laval, mailbox):
    ServiceRequestFactory(citizen=CitizenFactory(email="inconnu@exemple.qc.ca"))
    (message,) = _messages()
    mailbox.refuse_address = "inconnu@exemple.qc.ca"
    assert notification_deliver(notification_id=message.pk) == Outcome.FAILED
    message.refresh_from_db()
    assert message.last_error == "SMTP 550 for the recipient"
    assert message.next_attempt_at is None


def test_a_server_hanging_up_after_the_hand_over_leaves_the_message_uncertain(in_laval, mailbox):
    """The message may have been delivered: it is never sent again on its own."""
    ServiceRequestFactory(citizen=CitizenFactory())
    (message,) = _messages()
    mailbox.hang_up_at_data = True
    assert notification_deliver(notification_id=message.pk) == Outcome.UNCERTAIN
    mailbox.hang_up_at_data = False
    assert notifications_send_due(now=timezone.now() + timedelta(days=3)) == {}
    assert len(mailbox.messages) == 1
    message.refresh_from_db()
    assert message.status == NotificationStatus.UNCERTAIN
    assert message.handed_over_at is not None


def test_a_message_being_sent_elsewhere_is_left_alone(in_laval, mailbox):
    """Two tasks for one message: the second finds it locked by the first and does nothing."""
    ServiceRequestFactory(citizen=CitizenFactory())
    (message,) = _messages()
    key = _lock_key(message.pk)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
        assert notification_deliver(notification_id=message.pk) == Outcome.BUSY
        assert mailbox.messages == []
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    finally:
        other.close()
    assert notification_deliver(notification_id=message.pk) == Outcome.SENT


def test_a_second_town_sees_none_of_the_first_towns_messages(laval, levis):
    with schema_context(laval.schema_name):
        ServiceRequestFactory(citizen=CitizenFactory())
        assert Notification.objects.count() == 1
    with schema_context(levis.schema_name):
        assert Notification.objects.count() == 0
        assert notifications_send_due() == {}
