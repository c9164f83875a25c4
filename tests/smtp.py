"""A real SMTP server on loopback (aiosmtpd) for the tests that send e-mail, with the failures a
town's mail server has: refusing for a while (451), refusing an address (550), hanging before
or after it receives a message, hanging up without answering."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.processes import free_port


class Mailbox:
    """What the server received, and how it behaves. `refuse_next` messages get 451 at the end
    of DATA; `refuse_address` gets 550 at RCPT; `hold_at` ("rcpt" or "data") makes the server
    wait at that stage until `release` is set (`holding` says it got there); `hang_up_at_data`
    closes the connection once a message is received, without answering."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.refused = 0
        # Messages whose content reached the server, answered or not.
        self.handed_over = 0
        self.refuse_next = 0
        self.refuse_address = ""
        self.hold_at = ""
        self.hang_up_at_data = False
        self.holding = threading.Event()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def settings(self) -> dict[str, object]:
        """Django settings that send to this server through Relais' SMTP backend."""
        return {
            "EMAIL_BACKEND": "crm.mail.HandoverSMTPBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 5,
        }

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    async def _hold(self, stage: str) -> None:
        if self.hold_at != stage:
            return
        self.holding.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        await self._hold("rcpt")
        if self.refuse_address and address == self.refuse_address:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.handed_over += 1
        await self._hold("data")
        if self.hang_up_at_data:
            self.messages.append(_parsed(envelope.content))
            server.transport.close()
            return "250 never heard"
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.messages.append(_parsed(envelope.content))
        return "250 Message accepted for delivery"


def _parsed(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port for the block's duration."""
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        mailbox.release.set()
        controller.stop()


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def body_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
