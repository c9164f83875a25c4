"""The base layout: accessible landmarks, branding, privacy officer, languages, no CDN."""

from __future__ import annotations

import re

import pytest

from tenants.models import Municipality
from tenants.services import municipality_set_status

pytestmark = pytest.mark.django_db


def test_layout_has_skip_link_landmarks_and_branding(client_for, laval):
    html = client_for(laval).get("/").text

    assert '<html lang="fr">' in html
    assert '<a class="lien-evitement" href="#contenu">Aller au contenu principal</a>' in html
    assert '<header class="entete" role="banner">' in html
    assert '<main id="contenu" class="contenu" tabindex="-1">' in html
    assert '<footer class="pied" role="contentinfo">' in html
    assert "--couleur-principale: #00558c" in html
    assert "<title>Accueil — Laval</title>" in html
    assert html.count("<h1>") == 1


def test_footer_names_the_towns_privacy_officer(client_for, laval, levis):
    laval_html = client_for(laval).get("/").text
    levis_html = client_for(levis).get("/").text

    assert "Julie Responsable" in laval_html
    assert 'href="mailto:vie-privee@laval.localhost"' in laval_html
    assert "Marc Gardien" in levis_html
    assert "Julie Responsable" not in levis_html


def test_every_asset_is_served_by_the_project(client_for, platform_client, laval):
    for html in (client_for(laval).get("/").text, platform_client.get("/").text):
        assert '<link rel="stylesheet" href="/static/relais/css/relais.css">' in html
        sources = re.findall(r'src="([^"]*)"', html)
        stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]*)"', html)
        # No CDN: every asset is a path on the same host.
        assert all(url.startswith("/") and not url.startswith("//") for url in sources)
        assert all(url.startswith("/") and not url.startswith("//") for url in stylesheets)


def test_unknown_host_and_maintenance_pages_are_bilingual(
    client_for, laval, django_capture_on_commit_callbacks
):
    unknown = client_for("inconnue.localhost").get("/").text
    with django_capture_on_commit_callbacks(execute=True):
        municipality_set_status(municipality=laval, status=Municipality.Status.SUSPENDED)
    maintenance = client_for(laval).get("/").text

    for html in (unknown, maintenance):
        assert '<html lang="fr">' in html
        assert '<div lang="en">' in html
    assert "inconnue.localhost" in unknown
    assert "Service temporarily unavailable" in maintenance
    assert "Julie Responsable" in maintenance
