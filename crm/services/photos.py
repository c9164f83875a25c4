"""Photos sent with a problem reported on the portal: checked from their bytes, read by Pillow
within a pixel budget (a decompression bomb is refused before it is decoded), turned upright,
reduced to PHOTO_MAX_SIDE pixels and saved again as JPEG without any metadata (no EXIF, so no
GPS position, camera or date; no comment, no ICC profile). Then filed with the request, in the
same transaction."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence

import filetype
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from crm.errors import CrmError, CrmErrorCode
from crm.models import ServiceRequest, ServiceType
from crm.roles import Viewer
from crm.services.attachments import attachment_max_bytes, request_attach
from crm.services.citizens import IntakeContact
from crm.services.requests import request_intake

__all__ = [
    "PHOTO_MAX_COUNT",
    "PHOTO_MAX_PIXELS",
    "PHOTO_MAX_SIDE",
    "photo_prepare",
    "portal_report_file",
]

PHOTO_MAX_COUNT = 3
PHOTO_MAX_SIDE = 2048
# 40 megapixels: more than any phone's photo; a bomb announces far more in its header.
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
HEAD_BYTES = 8192


def _refused(message: str, code: CrmErrorCode = CrmErrorCode.FILE_TYPE_REFUSED) -> CrmError:
    status = 415 if code == CrmErrorCode.FILE_TYPE_REFUSED else 400
    return CrmError(code, message, status=status, field="photos")


def photo_prepare(upload: File, number: int) -> ContentFile:
    """The photo `upload` as it is kept: upright, at most PHOTO_MAX_SIDE pixels on its longer
    side, JPEG without metadata, named `photo-<number>.jpg`. Raises CrmError `empty_file`,
    `file_too_large`, `file_type_refused` (not a JPEG, PNG or WebP, whatever its name: a script,
    an SVG, a PDF) or `image_unreadable` (damaged, or a decompression bomb)."""
    size = upload.size or 0
    if size <= 0:
        raise _refused(_("La photo est vide."), CrmErrorCode.EMPTY_FILE)
    limit = attachment_max_bytes()
    if size > limit:
        raise CrmError(
            CrmErrorCode.FILE_TOO_LARGE,
            _("Une photo dépasse la taille permise ({limit} Mo).").format(
                limit=f"{limit / (1024 * 1024):.0f}"
            ),
            status=413,
            field="photos",
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    guessed = filetype.guess(head) if head else None
    if guessed is None or guessed.mime not in PHOTO_TYPES:
        raise _refused(
            _(
                "Seules les photos JPEG, PNG ou WebP sont acceptées ; le contenu de ce fichier "
                "n'en est pas une, quel que soit son nom."
            )
        )
    unreadable = _("Cette photo ne peut pas être lue : elle est endommagée ou trop grande.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(upload)
            # The header's size, before any pixel is decoded.
            if opened.width * opened.height > PHOTO_MAX_PIXELS:
                raise _refused(unreadable, CrmErrorCode.IMAGE_UNREADABLE)
            opened.load()
            upright = ImageOps.exif_transpose(opened).convert("RGB")
            upright.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            # Pillow carries what it read (a JPEG's comment, an ICC profile…) into what it
            # saves: nothing of the original but its pixels may leave.
            upright.info.clear()
            output = io.BytesIO()
            upright.save(output, format="JPEG", quality=85, optimize=True, comment=b"")
    except CrmError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as error:
        raise _refused(unreadable, CrmErrorCode.IMAGE_UNREADABLE) from error
    return ContentFile(output.getvalue(), name=f"photo-{number}.jpg")


def portal_report_file(
    *,
    viewer: Viewer,
    service_type: ServiceType,
    description: str,
    address: str,
    latitude: object,
    longitude: object,
    attributes: Mapping[str, object],
    contact: IntakeContact | None,
    photos: Sequence[File] = (),
) -> ServiceRequest:
    """A problem reported on the portal: the request (`request_intake`, web channel) and its
    photos, in one transaction; the photos are checked and prepared first, so that a refused
    photo files nothing. Raises CrmError as request_intake and photo_prepare do, and
    `too_many_photos`."""
    if len(photos) > PHOTO_MAX_COUNT:
        raise _refused(
            _("Joignez {count} photos au plus.").format(count=PHOTO_MAX_COUNT),
            CrmErrorCode.TOO_MANY_PHOTOS,
        )
    prepared = [photo_prepare(photo, number) for number, photo in enumerate(photos, start=1)]
    with transaction.atomic():
        service_request = request_intake(
            viewer=viewer,
            service_type=service_type,
            channel="web",
            contact=contact,
            description=description,
            address=address,
            latitude=latitude,
            longitude=longitude,
            attributes=attributes,
        )
        for photo in prepared:
            request_attach(actor=None, service_request=service_request, upload=photo)
    return service_request
