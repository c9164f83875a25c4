"""The base layout: accessible landmarks, branding, privacy officer, languages, no CDN."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_layout_has_skip_link_landmarks_and_branding(client_for, laval):
    html = client_for(laval).get("/").text

    assert '<html lang="fr">' in html
    assert '<a class="lien-evitement" href="#contenu">Aller au contenu principal</a>' in html
    assert '<header class="entete" role="banner">' in html
    assert '<main id="contenu" class="contenu" tabindex="-1">' in html
    assert '<footer class="pied" role="contentinfo">' in html
    assert "--couleur-principale: #00558c" in html
    assert "<title>Laval</title>" in html
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
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:css|js|png|svg|woff2?))"', html)
        assert assets, "the page links its stylesheet"
        assert all(url.startswith("/static/") for url in assets), assets


def test_unknown_host_and_maintenance_pages_are_bilingual(client_for):
    html = client_for("inconnue.localhost").get("/").text

    assert '<html lang="fr">' in html
    assert '<div lang="en">' in html
    assert "inconnue.localhost" in html
