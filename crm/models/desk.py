"""What the staff workspace keeps for its users: saved queue views and request attachments."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.requests import ServiceRequest


class SavedView(models.Model):
    """A queue's filters and sort, saved under a name by one staff member for themselves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("compte"),
    )
    name = models.CharField(_("nom"), max_length=80)
    # The queue's query string (filters, sort), as the queue page reads it back.
    query = models.CharField(_("filtres"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("vue enregistrée")
        verbose_name_plural = _("vues enregistrées")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.name


def attachment_upload_path(instance: RequestAttachment, filename: str) -> str:
    # Never the uploader's file name in the path (it may hold a person's name): a random one,
    # under the request's year. The storage is per town (the schema's folder, see settings).
    return f"attachments/{instance.request.number[:4]}/{instance.stored_name}"


def private_storage() -> Storage:
    return storages["private"]


class RequestAttachment(models.Model):
    """A file staff attached to a request (an image or a PDF, checked from its bytes), served
    only to staff who may see the request."""

    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("requête"),
    )
    file = models.FileField(
        _("fichier"), upload_to=attachment_upload_path, storage=private_storage, max_length=300
    )
    stored_name = models.CharField(max_length=80, editable=False)
    original_name = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(_("type"), max_length=80)
    size = models.PositiveIntegerField(_("taille (octets)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("ajouté par"),
    )
    uploaded_at = models.DateTimeField(_("ajouté le"), auto_now_add=True)

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name
