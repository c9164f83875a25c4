"""Writes of the information bank from the staff workspace: its editors (`Viewer.edits_bank`)
create, edit, publish and archive articles. Each write goes through `crm.services.faq`, so it
is validated the same way as everywhere and becomes a new version with its author (the
versions are the bank's audit trail)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import FaqArticle, FaqStatus, ServiceType
from crm.roles import Viewer
from crm.services.faq import faq_article_create, faq_article_update

__all__ = ["bank_article_save", "bank_article_set_status"]


def _refuse_unless_editor(viewer: Viewer) -> None:
    if not viewer.edits_bank:
        raise PermissionDenied(_("Seuls les administrateurs modifient la banque d'information."))


def bank_article_save(
    *,
    viewer: Viewer,
    article: FaqArticle | None,
    service_types: Iterable[ServiceType],
    **fields: Any,
) -> FaqArticle:
    """Create an article (`article` None) or save a new version of it.

    Raises PermissionDenied for a viewer who does not edit the bank, CrmError (with the field at
    fault) for an article that does not validate; nothing is written then."""
    _refuse_unless_editor(viewer)
    if article is None:
        return faq_article_create(actor=viewer.user, service_types=service_types, **fields)
    return faq_article_update(
        actor=viewer.user, article=article, service_types=service_types, **fields
    )


def bank_article_set_status(*, viewer: Viewer, article: FaqArticle, status: str) -> FaqArticle:
    """Publish, archive or bring back to draft: a new version whose only change is its status.

    Raises CrmError `invalid_status` for an unknown status or the one the article already has,
    and `english_missing` when an article without its English text is published."""
    _refuse_unless_editor(viewer)
    if status not in FaqStatus.values or status == article.status:
        raise CrmError(
            CrmErrorCode.INVALID_STATUS,
            _("Statut inchangé ou inconnu : {status}.").format(status=status),
            field="status",
        )
    return faq_article_update(actor=viewer.user, article=article, status=status)
