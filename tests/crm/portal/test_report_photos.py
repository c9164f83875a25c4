"""Photos with a problem reported on the portal: up to three, each checked from its bytes, read
within a pixel budget, turned upright, reduced and saved again without metadata (no GPS); a bad
photo is refused next to the field and files nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from crm.models import RequestAttachment, ServiceRequest
from tests.crm.portal.test_report import _catalog, _submission

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _jpeg(width: int = 4000, height: int = 3000, *, gps: bool = True, name: str = "trou.jpg"):
    image = Image.new("RGB", (width, height), (120, 90, 60))
    image.info["comment"] = b"GPS 45.5N 73.6W, appareil de Jean Tremblay"
    exif = Image.Exif()
    exif[0x010F] = "Appareil de Léa"  # Make
    exif[ORIENTATION] = 6  # to be turned 90° to be upright
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (45.0, 33.0, 27.0), 3: "W", 4: (73.0, 43.0, 1.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=image.info["comment"])
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _report(client, *photos, **fields):
    page = client.get("/signaler/nid-de-poule/").text
    return client.post(
        "/signaler/nid-de-poule/",
        {
            "submission": _submission(page),
            "attribute_taille": "grand",
            "address": "12, rue des Érables",
            "description": "Un trou profond.",
            "photos": list(photos),
            **fields,
        },
    )


def test_a_photo_is_kept_upright_reduced_and_without_any_metadata(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()

    response = _report(client_for(laval), _jpeg(), _jpeg(800, 600, gps=False, name="b.png.jpg"))

    assert response.status_code == 302
    with schema_context(laval.schema_name):
        filed = ServiceRequest.objects.get()
        photos = list(RequestAttachment.objects.filter(request=filed).order_by("original_name"))
        assert [p.original_name for p in photos] == ["photo-1.jpg", "photo-2.jpg"]
        assert {p.content_type for p in photos} == {"image/jpeg"}
        with photos[0].file.open("rb") as stored:
            kept = Image.open(io.BytesIO(stored.read()))
    assert kept.size == (1536, 2048)  # 4000 × 3000 turned upright, then at most 2048
    assert dict(kept.getexif()) == {}
    assert "exif" not in kept.info
    assert "icc_profile" not in kept.info
    assert "comment" not in kept.info


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("photo.jpg", b"<?php system($_GET['c']); ?>", "image/jpeg"),
            "Seules les photos JPEG, PNG ou WebP sont acceptées",
        ),
        (
            SimpleUploadedFile(
                "photo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "image/svg+xml",
            ),
            "Seules les photos JPEG, PNG ou WebP sont acceptées",
        ),
        (
            SimpleUploadedFile(
                "grosse.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (11 * 1024 * 1024), "image/jpeg"
            ),
            "Une photo dépasse la taille permise (10 Mo).",
        ),
        (
            SimpleUploadedFile("abimee.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x13" * 400),
            "Cette photo ne peut pas être lue",
        ),
    ],
    ids=["php-named-jpg", "svg-with-script", "over-10-mb", "damaged"],
)
def test_a_bad_photo_is_refused_next_to_the_field_and_files_nothing(
    client_for, laval, upload, message
):
    with schema_context(laval.schema_name):
        _catalog()

    response = _report(client_for(laval), upload)

    assert response.status_code == 400
    assert message in response.text
    assert 'id="id_photos_error"' in response.text
    assert "choisissez-les de nouveau" in response.text
    assert 'value="12, rue des Érables"' in response.text
    with schema_context(laval.schema_name):
        assert not ServiceRequest.objects.exists()
        assert not RequestAttachment.objects.exists()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, format="PNG")  # 144 megapixels, ~20 KB
    assert bomb.tell() < 100_000

    response = _report(client_for(laval), SimpleUploadedFile("bombe.png", bomb.getvalue()))

    assert response.status_code == 400
    assert "Cette photo ne peut pas être lue" in response.text
    with schema_context(laval.schema_name):
        assert not ServiceRequest.objects.exists()


def test_four_photos_are_refused(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    photos = [_jpeg(64, 48, gps=False, name=f"{n}.jpg") for n in range(4)]

    response = _report(client_for(laval), *photos)

    assert response.status_code == 400
    assert "Joignez 3 photos au plus." in response.text
    with schema_context(laval.schema_name):
        assert not ServiceRequest.objects.exists()
