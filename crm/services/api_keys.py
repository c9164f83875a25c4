"""Writes of API keys: creation (the secret shown once), revocation, last use."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    API_KEY_PREFIX_LENGTH,
    ApiKey,
    ApiScope,
    api_key_digest,
    new_api_key,
)
from crm.services.common import author_of
from tenants.accounts.models import User

__all__ = [
    "API_KEY_TOUCH_SECONDS",
    "api_key_create",
    "api_key_revoke",
    "api_key_touch",
]

API_KEY_TOUCH_SECONDS = 60


def api_key_create(*, actor: User | None, name: str, scope: str) -> tuple[ApiKey, str]:
    """Create a named key for an integration and return it with the key itself, which is not
    stored (only its digest) and cannot be shown again. Raises CrmError for a blank or taken
    name or an unknown scope."""
    name = (name or "").strip()
    if not name:
        raise CrmError(CrmErrorCode.NAME_REQUIRED, _("Donnez un nom à la clé."), field="name")
    if scope not in ApiScope.values:
        raise CrmError(
            CrmErrorCode.INVALID_SCOPE,
            _("Portée inconnue : {scope} (read ou write).").format(scope=scope),
            field="scope",
        )
    key = new_api_key()
    with transaction.atomic():
        if ApiKey.objects.filter(name=name).exists():
            raise CrmError(
                CrmErrorCode.NAME_TAKEN,
                _("Une clé porte déjà le nom « {name} ».").format(name=name),
                field="name",
                status=409,
            )
        api_key = ApiKey.objects.create(
            name=name,
            prefix=key[: len("rls_") + API_KEY_PREFIX_LENGTH],
            digest=api_key_digest(key),
            scope=scope,
            created_by=author_of(actor),
        )
    return api_key, key


def api_key_revoke(*, actor: User | None, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once, recording who did; it is kept (revoked) so the requests it created
    still name it. Revoking a revoked key changes nothing (the first revocation stands)."""
    with transaction.atomic():
        current = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if current.revoked_at is None:
            current.revoked_at = timezone.now()
            current.revoked_by = author_of(actor)
            current.save(update_fields=["revoked_at", "revoked_by"])
    api_key.revoked_at, api_key.revoked_by = current.revoked_at, current.revoked_by
    return current


def api_key_touch(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Record that a key was used, at most once a minute (not one write per request)."""
    now = now or timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > (
        API_KEY_TOUCH_SECONDS
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
