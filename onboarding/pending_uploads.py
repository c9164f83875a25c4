"""Files kept between an upload and its confirmation: a town's historical-requests file waits
here while the console maps its columns and checks it, until it is imported.

One pending upload per session, for one town. The file lies in a private folder beside
RELAIS_EXPORT_DIR under a random name, and the session holds only that name, the town and the
file's original name. It holds citizens' data: it is deleted once imported or replaced by
another upload, and a file left by an abandoned import is deleted after a day.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

SESSION_KEY = "console_requests_import"
MAX_AGE_SECONDS = 24 * 3600


def _folder() -> Path:
    folder = Path(settings.RELAIS_EXPORT_DIR).parent / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


@dataclass(frozen=True)
class PendingUpload:
    town: str  # the slug of the town the file is for
    name: str  # the uploaded file's name, as shown and as the import records it
    path: Path

    def read(self) -> bytes | None:
        """The file's content, or None when it is gone (deleted as stale, or by hand)."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None


class PendingUploads:
    """The pending upload of one session."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session

    def put(self, *, town: str, name: str, content: bytes) -> PendingUpload:
        """Keep `content` for `town`, replacing (and deleting) this session's previous file."""
        self.discard()
        token = secrets.token_hex(16)
        upload = PendingUpload(town=town, name=Path(name).name[:200], path=_path(token))
        upload.path.write_bytes(content)
        self.session[SESSION_KEY] = {"town": town, "token": token, "name": upload.name}
        return upload

    def get(self, *, town: str) -> PendingUpload | None:
        """This session's upload for `town`, or None when there is none for that town."""
        stored = self.session.get(SESSION_KEY)
        if not stored or stored.get("town") != town:
            return None
        return PendingUpload(town=town, name=stored["name"], path=_path(stored["token"]))

    def discard(self) -> None:
        """Forget this session's upload and delete its file, and every file left over from an
        abandoned import."""
        stored = self.session.pop(SESSION_KEY, None)
        if stored:
            _path(stored["token"]).unlink(missing_ok=True)
        cutoff = time.time() - MAX_AGE_SECONDS
        for leftover in _folder().glob("*.csv"):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink(missing_ok=True)


def _path(token: str) -> Path:
    return _folder() / f"{token}.csv"
