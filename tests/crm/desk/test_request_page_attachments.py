"""Attachments through the request page: the type is read from the bytes (a name proves
nothing), the size is limited, the file lands in the town's private storage with a timeline
event, and only staff who may read the request get it back."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import schema_context

from crm import services
from crm.models import RequestAttachment, RequestEvent
from tenants.models import Municipality
from tests.crm.desk.request_files import HEIC, HTML, JPEG, PDF, PNG, WEBP, upload
from tests.factories import DepartmentFactory, ServiceRequestFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db

TOKEN = "jeton-piece-0001"


def page_url(number: str) -> str:
    return f"/personnel/requetes/{number}/"


@pytest.fixture
def roads(laval: Municipality) -> Any:
    with schema_context(laval.schema_name):
        return DepartmentFactory(code="voirie", name_fr="Voirie")


@pytest.fixture
def pothole(laval: Municipality, roads: Any) -> Any:
    with schema_context(laval.schema_name):
        return ServiceRequestFactory(service_type=ServiceTypeFactory(department=roads))


def attach(client: Client, number: str, name: str, content: bytes, **kw: Any) -> Any:
    return client.post(
        page_url(number) + "pieces-jointes/",
        {"piece-file": upload(name, content, **kw), "piece-submission": TOKEN},
    )


def rows(town: Municipality, service_request: Any) -> tuple[int, int]:
    with schema_context(town.schema_name):
        return (
            RequestAttachment.objects.filter(request=service_request).count(),
            RequestEvent.objects.filter(request=service_request).count(),
        )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("nid-de-poule.png", PNG, "image/png"),
        ("constat.PDF", PDF, "application/pdf"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("photo.webp", WEBP, "image/webp"),
        ("IMG_0001.HEIC", HEIC, "image/heic"),
    ],
)
def test_an_image_or_a_pdf_is_attached_privately_with_its_event(
    desk_client: Callable[..., Client],
    laval: Municipality,
    pothole: Any,
    name: str,
    content: bytes,
    content_type: str,
) -> None:
    client = desk_client("agent")

    response = attach(client, pothole.number, name, content, content_type="text/html")

    assert response.status_code == 302
    with schema_context(laval.schema_name):
        attachment = RequestAttachment.objects.get(request=pothole)
        event = RequestEvent.objects.filter(request=pothole).latest("id")
        path = attachment.file.path
        assert (event.kind, event.visibility, event.data, event.actor_id) == (
            "internal_note",
            "internal",
            {"attachment": attachment.pk},
            client.user.pk,
        )
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        name,
        content_type,  # from the bytes, not from what the browser declared
        len(content),
    )
    private_folder = os.path.join(settings.RELAIS_PRIVATE_ROOT, laval.schema_name, "attachments")
    assert path.startswith(private_folder)
    assert name not in path  # stored under a random name
    with open(path, "rb") as stored:
        assert stored.read() == content
    assert f"Pièce jointe ajoutée : {name}." in client.get(response.url).text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "facture.pdf",
            HTML,
            "Seuls les images (JPEG, PNG, WebP, HEIC) et les PDF sont acceptés ; le contenu de "
            "ce fichier n&#x27;en est pas un, quel que soit son nom.",
        ),
        (
            "facture.pdf",
            PNG,
            "Le nom de ce fichier (« .pdf ») ne correspond pas à son contenu (PNG) : "
            "renommez-le ou choisissez le bon fichier.",
        ),
        (
            "page.html",
            HTML,
            "Seuls les images (JPEG, PNG, WebP, HEIC) et les PDF sont acceptés ; le contenu de "
            "ce fichier n&#x27;en est pas un, quel que soit son nom.",
        ),
        ("vide.png", b"", "Le fichier est vide."),
    ],
)
def test_a_file_whose_content_is_not_what_is_accepted_is_refused_and_nothing_is_written(
    desk_client: Callable[..., Client],
    laval: Municipality,
    pothole: Any,
    name: str,
    content: bytes,
    message: str,
) -> None:
    before = rows(laval, pothole)
    stored_before = _stored_files(laval)

    response = attach(desk_client("agent"), pothole.number, name, content)

    assert response.status_code == 400
    assert f'<ul class="errorlist" id="id_piece-file_error"><li>{message}</li></ul>' in (
        response.text
    )
    assert rows(laval, pothole) == before
    assert _stored_files(laval) == stored_before


def test_a_file_over_the_limit_gets_a_clear_message(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any, settings: Any
) -> None:
    settings.RELAIS_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    # Over Django's in-memory body limit too (2.5 MB): the upload is parsed from the stream,
    # and the page, not a bare 413, answers.
    big = PDF + b"0" * (3 * 1024 * 1024)
    assert len(big) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    before = rows(laval, pothole)

    response = attach(desk_client("agent"), pothole.number, "plan.pdf", big)

    assert response.status_code == 400
    assert "Le fichier dépasse la taille permise (2 Mo)." in response.text
    assert rows(laval, pothole) == before


def test_a_heic_photo_is_downloaded_not_shown_inline(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    client = desk_client("agent")
    attach(client, pothole.number, "IMG_0001.HEIC", HEIC)
    with schema_context(laval.schema_name):
        attachment = RequestAttachment.objects.get(request=pothole)

    response = client.get(page_url(pothole.number) + f"pieces-jointes/{attachment.pk}/")

    assert response["Content-Type"] == "image/heic"
    assert response["Content-Disposition"] == 'attachment; filename="IMG_0001.HEIC"'


def test_the_default_limit_is_10_mb() -> None:
    assert settings.RELAIS_ATTACHMENT_MAX_BYTES == 10 * 1024 * 1024


def test_the_form_tells_the_limit_and_the_browser_check(
    desk_client: Callable[..., Client], pothole: Any
) -> None:
    page = desk_client("agent").get(page_url(pothole.number)).text

    assert "Image (JPEG, PNG, WebP, HEIC) ou PDF, 10 Mo au plus." in page
    assert 'data-max-bytes="10485760"' in page
    assert 'enctype="multipart/form-data"' in page


def test_no_file_chosen_is_refused_next_to_the_field(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    before = rows(laval, pothole)

    response = desk_client("agent").post(
        page_url(pothole.number) + "pieces-jointes/", {"piece-submission": TOKEN}
    )

    assert response.status_code == 400
    assert "Choisissez un fichier à joindre." in response.text
    assert rows(laval, pothole) == before


def _stored_files(town: Municipality) -> set[str]:
    root = os.path.join(settings.RELAIS_PRIVATE_ROOT, town.schema_name)
    return {os.path.join(folder, name) for folder, _dirs, names in os.walk(root) for name in names}


# --- Serving -----------------------------------------------------------------------------------


@pytest.fixture
def attached(desk_client: Callable[..., Client], laval: Municipality, pothole: Any) -> Any:
    """A PNG and a PDF attached to Laval's request; returns their serving URLs."""
    client = desk_client("agent")
    attach(client, pothole.number, "photo.png", PNG)
    client.post(
        page_url(pothole.number) + "pieces-jointes/",
        {"piece-file": upload("rapport.pdf", PDF), "piece-submission": "jeton-2"},
    )
    with schema_context(laval.schema_name):
        png, pdf = RequestAttachment.objects.filter(request=pothole).order_by("pk")
    base = page_url(pothole.number) + "pieces-jointes/"
    return {"png": f"{base}{png.pk}/", "pdf": f"{base}{pdf.pk}/"}


def test_staff_who_may_read_the_request_get_the_file_with_safe_headers(
    desk_client: Callable[..., Client], pothole: Any, roads: Any, attached: Any
) -> None:
    client = desk_client("department", department=roads)

    image = client.get(attached["png"])
    document = client.get(attached["pdf"])

    assert image.status_code == document.status_code == 200
    assert b"".join(image.streaming_content) == PNG
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == 'inline; filename="photo.png"'
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Cache-Control"] == "private, no-store"
    assert b"".join(document.streaming_content) == PDF
    assert document["Content-Type"] == "application/pdf"
    assert document["Content-Disposition"] == 'attachment; filename="rapport.pdf"'


def test_the_page_links_attachments_to_the_serving_view_never_to_media(
    desk_client: Callable[..., Client], pothole: Any, attached: Any
) -> None:
    page = desk_client("agent").get(page_url(pothole.number)).text

    assert f'href="{attached["png"]}"' in page
    assert settings.MEDIA_URL not in page


@pytest.mark.parametrize("who", ["other_department", "levis", "anonymous"])
def test_anyone_who_may_not_read_the_request_gets_404_or_the_door(
    desk_client: Callable[..., Client],
    client_for: Callable[..., Client],
    laval: Municipality,
    levis: Municipality,
    attached: Any,
    who: str,
) -> None:
    if who == "other_department":
        with schema_context(laval.schema_name):
            parks = DepartmentFactory(code="parcs")
        client = desk_client("department", department=parks)
    elif who == "levis":
        client = desk_client("administrator", town=levis)
    else:
        client = client_for(laval)

    response = client.get(attached["png"])

    assert response.status_code == (302 if who == "anonymous" else 404)
    assert not getattr(response, "streaming", False)


def test_an_attachment_of_another_request_is_not_served_under_this_one(
    desk_client: Callable[..., Client], laval: Municipality, roads: Any, attached: Any
) -> None:
    with schema_context(laval.schema_name):
        other = ServiceRequestFactory(service_type=ServiceTypeFactory(department=roads))
    png_pk = attached["png"].rstrip("/").rsplit("/", 1)[1]

    response = desk_client("agent").get(page_url(other.number) + f"pieces-jointes/{png_pk}/")

    assert response.status_code == 404


def test_a_write_that_fails_after_storing_the_file_leaves_no_file_behind(
    laval: Municipality, pothole: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = rows(laval, pothole)
    stored_before = _stored_files(laval)

    def refuse(**kwargs: Any) -> None:
        raise RuntimeError("la base refuse l'événement")

    with schema_context(laval.schema_name):
        monkeypatch.setattr(RequestEvent.objects, "create", refuse)
        with pytest.raises(RuntimeError, match="refuse"):
            services.request_attach(
                actor=None, service_request=pothole, upload=upload("photo.png", PNG)
            )
        monkeypatch.undo()

    assert rows(laval, pothole) == before
    assert _stored_files(laval) == stored_before
