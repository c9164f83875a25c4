"""What a citizen is told about a request, on the portal and in messages alike: its status in
plain words, and the address of its tracking page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from crm.models import RequestStatus, ServiceRequest

# What each status means for the person who made the request.
STATUS_WORDS: dict[str, Promise] = {
    RequestStatus.NEW: gettext_lazy("Reçue : votre demande attend d'être prise en charge."),
    RequestStatus.ASSIGNED: gettext_lazy(
        "Prise en charge : elle est confiée à l'équipe responsable."
    ),
    RequestStatus.IN_PROGRESS: gettext_lazy("En traitement : l'équipe responsable y travaille."),
    RequestStatus.ON_HOLD: gettext_lazy("En attente : son traitement est suspendu pour le moment."),
    RequestStatus.RESOLVED: gettext_lazy("Résolue : l'équipe responsable a réglé la situation."),
    RequestStatus.CLOSED: gettext_lazy("Fermée : le dossier est terminé."),
    RequestStatus.CANCELLED: gettext_lazy("Annulée : la demande ne sera pas traitée."),
    RequestStatus.DUPLICATE: gettext_lazy("Jumelée : elle est traitée avec une autre demande."),
}


def status_words(service_request: ServiceRequest) -> str:
    return str(STATUS_WORDS.get(service_request.status, service_request.get_status_display()))


def tracking_url(service_request: ServiceRequest) -> str:
    """The request's tracking address (a path, in the active language): the token travels in
    the query string, which the access logs leave out."""
    path = reverse("portal:tracked", kwargs={"number": service_request.number})
    return f"{path}?{urlencode({'jeton': service_request.tracking_token})}"
