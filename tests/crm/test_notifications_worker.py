"""A message is never sent twice, even when the worker sending it is killed: real `db_worker`
processes send through a real SMTP server on loopback, and are killed with SIGKILL while the
server holds the message before or after it was handed over."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django_tenants.utils import schema_context

from crm.models import Notification, NotificationStatus
from crm.tasks import deliver_notification
from tenants.models import Municipality
from tests.e2e.test_accessibility import committed
from tests.processes import child_env, run_worker, running, wait_for, worker_command
from tests.smtp import Mailbox, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed_message(laval: Municipality) -> Iterator[Callable[[], int]]:
    """A message written and committed in Laval's outbox (a worker process sees it); deleted
    after the test."""
    made: list[int] = []

    def write() -> None:
        with schema_context(laval.schema_name):
            made.append(
                Notification.objects.create(
                    kind="received",
                    channel="email",
                    recipient="lea@exemple.qc.ca",
                    subject="Votre demande n° 2026-000001 est reçue",
                    body_text="Bonjour,\n",
                ).pk
            )

    def make() -> int:
        committed(write)
        return made[-1]

    yield make

    def delete() -> None:
        with schema_context(laval.schema_name):
            Notification.objects.filter(pk__in=made).delete()

    committed(delete)


def _status(laval: Municipality, pk: int) -> Notification:
    with schema_context(laval.schema_name):
        return Notification.objects.get(pk=pk)


def _killed_while_held(
    stage: str, laval: Municipality, tmp_path, queued_task, committed_message
) -> tuple[Mailbox, Notification]:
    with smtp_server() as mailbox:
        mailbox.hold_at = stage
        pk = committed_message()
        queued_task(deliver_notification, schema_name=laval.schema_name, notification_id=pk)
        env = child_env(RELAIS_TEST_EMAIL_URL=mailbox.url)
        with running(worker_command(), env=env, log=tmp_path / "first.log") as first:
            wait_for(mailbox.holding.is_set, timeout=60, what=f"the server holds at {stage}")
            first.kill()
            first.wait(timeout=10)
        assert _status(laval, pk).status == NotificationStatus.SENDING
        mailbox.hold_at = ""
        mailbox.release.set()
        # The next worker takes the abandoned task up again.
        second = run_worker("--batch", env=env)
        assert second.returncode == 0, f"{second.stdout}\n{second.stderr}"
        final = wait_for(
            lambda: (
                message
                if (message := _status(laval, pk)).status != NotificationStatus.SENDING
                else None
            ),
            timeout=30,
            what="the message settles",
        )
        return mailbox, final


def test_a_worker_killed_before_the_hand_over_is_replaced_and_the_message_sent_once(
    laval, tmp_path, queued_task, committed_message
):
    mailbox, message = _killed_while_held("rcpt", laval, tmp_path, queued_task, committed_message)
    assert message.status == NotificationStatus.SENT
    assert message.attempts == 2
    assert len(mailbox.to("lea@exemple.qc.ca")) == 1


def test_a_worker_killed_after_the_hand_over_never_sends_again(
    laval, tmp_path, queued_task, committed_message
):
    mailbox, message = _killed_while_held("data", laval, tmp_path, queued_task, committed_message)
    # The killed worker had handed it over (the server had its content, and dropped it with
    # the connection): it may have left, so it is never handed over again.
    assert mailbox.handed_over == 1
    assert message.status == NotificationStatus.UNCERTAIN
    assert message.attempts == 1
    assert message.handed_over_at is not None
