"""Files staff attach to a request: an image or a PDF, its type read from its bytes, kept in
the town's private storage (no URL: a view that checks who asks serves it)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import filetype
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import EventKind, RequestAttachment, RequestEvent, ServiceRequest, Visibility
from crm.services.common import author_of
from tenants.accounts.models import User

__all__ = [
    "ATTACHMENT_TYPES",
    "attachment_max_bytes",
    "request_attach",
]


# The types accepted, as read from the content, and the file-name endings each may carry.
ATTACHMENT_TYPES: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpg", "jpeg", "jfif"),
    "image/png": ("png",),
    "image/webp": ("webp",),
    "image/heic": ("heic", "heif"),
    "application/pdf": ("pdf",),
}
# filetype reads the first 261 bytes; a little more costs nothing.
HEAD_BYTES = 8192
NAME_MAX = 200


def attachment_max_bytes() -> int:
    """The largest attachment accepted (RELAIS_ATTACHMENT_MAX_BYTES, 10 MB by default)."""
    return int(settings.RELAIS_ATTACHMENT_MAX_BYTES)


def _display_name(name: str) -> str:
    """The uploader's file name as staff will see it: no folders, no control characters, at
    most 200 characters (the ending kept)."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "fichier"
    if len(base) <= NAME_MAX:
        return base
    stem, dot, ending = base.rpartition(".")
    ending = ending[:12]
    return f"{stem[: NAME_MAX - len(ending) - 1]}.{ending}" if dot else base[:NAME_MAX]


def _ending(name: str) -> str:
    stem, dot, ending = name.rpartition(".")
    return ending.lower() if dot and stem else ""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def _content_type_checked(upload: File, name: str) -> str:
    """The content's type, read from its first bytes; its file name must say the same type.
    Raises CrmError `file_type_refused` otherwise."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    guessed = filetype.guess(head) if head else None
    content_type = guessed.mime if guessed is not None else ""
    if content_type not in ATTACHMENT_TYPES:
        raise CrmError(
            CrmErrorCode.FILE_TYPE_REFUSED,
            _(
                "Seuls les images (JPEG, PNG, WebP, HEIC) et les PDF sont acceptés ; le contenu "
                "de ce fichier n'en est pas un, quel que soit son nom."
            ),
            status=415,
            field="file",
        )
    if _ending(name) not in ATTACHMENT_TYPES[content_type]:
        raise CrmError(
            CrmErrorCode.FILE_TYPE_REFUSED,
            _(
                "Le nom de ce fichier (« .{ending} ») ne correspond pas à son contenu ({kind}) : "
                "renommez-le ou choisissez le bon fichier."
            ).format(ending=_ending(name) or "", kind=ATTACHMENT_TYPES[content_type][0].upper()),
            status=415,
            field="file",
        )
    return content_type


def request_attach(
    *,
    actor: User | None,
    service_request: ServiceRequest,
    upload: File,
    now: datetime | None = None,
) -> RequestAttachment:
    """Attach `upload` (an image or a PDF) to a request, with an internal timeline event in
    the same transaction; the file is stored under a random name in the town's private storage.

    Raises CrmError `empty_file`, `file_too_large` (over attachment_max_bytes()) or
    `file_type_refused` (content that is not an accepted type, or whose name says another
    type); nothing is written then."""
    size = upload.size or 0
    if size <= 0:
        raise CrmError(CrmErrorCode.EMPTY_FILE, _("Le fichier est vide."), field="file")
    limit = attachment_max_bytes()
    if size > limit:
        raise CrmError(
            CrmErrorCode.FILE_TOO_LARGE,
            _("Le fichier dépasse la taille permise ({limit} Mo).").format(limit=_megabytes(limit)),
            status=413,
            field="file",
        )
    name = _display_name(upload.name or "")
    content_type = _content_type_checked(upload, name)
    stored_name = f"{uuid.uuid4().hex}.{ATTACHMENT_TYPES[content_type][0]}"
    attachment = RequestAttachment(
        request=service_request,
        stored_name=stored_name,
        original_name=name,
        content_type=content_type,
        size=size,
        uploaded_by=author_of(actor),
    )
    try:
        with transaction.atomic():
            attachment.file.save(stored_name, upload, save=False)
            attachment.save()
            RequestEvent.objects.create(
                created_at=now or timezone.now(),
                request=service_request,
                kind=EventKind.INTERNAL_NOTE,
                actor=author_of(actor),
                visibility=Visibility.INTERNAL,
                message=_("Pièce jointe ajoutée : {name}").format(name=name),
                data={"attachment": attachment.pk},
            )
    except BaseException:
        # The row is gone with the transaction: the file must not stay behind, unreferenced.
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
