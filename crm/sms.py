"""Text messages. A sender is a class with one method, `send(*, to, body, reference)`, named by
the RELAIS_SMS_SENDER setting; a provider's sender (Twilio, a Canadian aggregator…) is written
against this interface:

- `to` is the number as the town holds it (10 digits, North American), `body` the text (at most
  `SMS_MAX_LENGTH` characters), `reference` the message's stable key: a provider that accepts an
  idempotency key should be given it.
- It returns once the provider has accepted the message. It raises `SmsTemporaryError` when
  trying again later may work (provider unreachable, throttled) and `SmsRefusedError` when it
  will not (a number that cannot receive texts). Any other exception is treated as temporary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

SMS_MAX_LENGTH = 480  # three concatenated segments


class SmsTemporaryError(Exception):
    pass


class SmsRefusedError(Exception):
    pass


class SmsSender(Protocol):
    def send(self, *, to: str, body: str, reference: str) -> None: ...


class FileSmsSender:
    """Writes each text as a file under RELAIS_SMS_FILE_PATH (the demo, a town without a
    provider yet): one file per message, named by its reference, so a second send of the
    same message overwrites the first."""

    def send(self, *, to: str, body: str, reference: str) -> None:
        folder = Path(settings.RELAIS_SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().isoformat(timespec="seconds")
        (folder / f"{reference}.txt").write_text(f"To: {to}\nDate: {stamp}\n\n{body}\n")


class MemorySmsSender:
    """Keeps texts in `MemorySmsSender.outbox` (tests), like Django's locmem e-mail backend."""

    outbox: list[dict[str, str]] = []

    def send(self, *, to: str, body: str, reference: str) -> None:
        MemorySmsSender.outbox.append({"to": to, "body": body, "reference": reference})


def sms_sender() -> SmsSender:
    sender: SmsSender = import_string(settings.RELAIS_SMS_SENDER)()
    return sender
