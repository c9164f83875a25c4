"""The SMTP backend of Relais: Django's, telling its caller the moment a message is handed
over to the server (the DATA command). Before it, a failure means the message did not leave;
after it and before the server's answer, nobody can know. The outbox (crm/outbox.py) uses this
to send again only what surely did not leave."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import Any

from django.core.mail.backends.smtp import EmailBackend


class _Handover:
    before_data: Callable[[], None] | None = None

    def data(self, msg: Any) -> tuple[int, bytes]:
        if self.before_data is not None:
            self.before_data()
        return super().data(msg)  # type: ignore[misc]


class _SMTP(_Handover, smtplib.SMTP):
    pass


class _SMTP_SSL(_Handover, smtplib.SMTP_SSL):
    pass


class HandoverSMTPBackend(EmailBackend):
    """`before_data`, when given, is called just before each message's content is sent."""

    def __init__(self, *args: Any, before_data: Callable[[], None] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.before_data = before_data

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _SMTP_SSL if self.use_ssl else _SMTP

    def open(self) -> bool | None:
        opened = super().open()
        if isinstance(self.connection, _Handover):
            self.connection.before_data = self.before_data
        return opened
