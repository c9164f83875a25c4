"""Paths as access logs may keep them: without the secrets some paths carry.

Query strings are left out of every access log (shared_config.logging, deploy/); a few paths
carry a secret in the path itself: an invitation or password-reset link, allauth's reset key,
a request's tracking token, the link that stops following a request. Logged, they would let
whoever reads the logs use them. This module imports nothing of Django: gunicorn's access
logger uses it too (deploy/gunicorn.conf.py), and deploy/nginx.conf masks the same paths.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

MASK = "***"  # ASCII: nginx escapes other bytes in its logs
_SECRET_PATHS = re.compile(
    r"^(?P<keep>/(?:en/)?comptes/reset/)[^/]+/[^/]+/"
    r"|^(?P<keep_key>/(?:en/)?comptes/password/reset/key/|/suivi/ne-plus-suivre/"
    r"|/en/track/unfollow/)[^/]+/"
    r"|^(?P<keep_token>/open311/v2/tokens/)[^/.]+"
)


def loggable_path(path: str) -> str:
    """`path` with the secret it carries replaced by an ellipsis."""

    def masked(match: re.Match[str]) -> str:
        if match.group("keep"):
            return f"{match.group('keep')}{MASK}/{MASK}/"
        if match.group("keep_key"):
            return f"{match.group('keep_key')}{MASK}/"
        return f"{match.group('keep_token')}{MASK}"

    return _SECRET_PATHS.sub(masked, path, count=1)


class PrivateAccessLogger(Logger):
    """gunicorn's logger, whose path atom (`%(U)s`) is masked."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = loggable_path(atoms.get("U") or "")
        return atoms
