"""axe-core (WCAG 2.1 A and AA rules) on every page of the foundation, in Chromium."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

# No django_db marker: the server thread only sees committed data, so tests do not hold a
# transaction open; the one that writes commits and restores explicitly.
pytestmark = pytest.mark.e2e

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

PAGES = [
    ("laval.localhost", "/", 200),
    ("laval.localhost", "/en/", 200),
    ("levis.localhost", "/", 200),
    ("localhost", "/", 200),
    ("localhost", "/en/", 200),
    ("inconnue.localhost", "/", 404),
    ("laval.localhost", "/page-qui-n-existe-pas/", 404),
]


@pytest.mark.parametrize(("host", "path", "status"), PAGES)
def test_page_has_no_wcag_aa_violation(page, live_port, host, path, status):
    response = page.goto(f"http://{host}:{live_port}{path}")
    assert response.status == status

    results = Axe().run(page, options=WCAG_AA)

    violations = [
        f"{v['id']}: {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
    ]
    assert violations == []


def test_skip_link_is_first_and_moves_focus_to_main(page, live_port):
    page.goto(f"http://laval.localhost:{live_port}/")

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Aller au contenu principal"
    assert page.locator(".lien-evitement").is_visible()

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"


def test_language_switcher_reaches_the_english_page_and_back(page, live_port):
    page.goto(f"http://levis.localhost:{live_port}/")

    page.get_by_role("link", name="English").click()
    assert page.url.endswith("/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome to Lévis"

    page.get_by_role("link", name="Français").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bienvenue à Lévis"


def test_suspended_town_page_is_accessible(page, live_port, django_db_blocker):
    from tenants import routing
    from tenants.models import Municipality

    # The server thread reads committed data: suspend for real, then restore.
    with django_db_blocker.unblock():
        Municipality.objects.filter(slug="laval").update(status=Municipality.Status.SUSPENDED)
    routing.invalidate()
    try:
        response = page.goto(f"http://laval.localhost:{live_port}/")
        assert response.status == 503
        results = Axe().run(page, options=WCAG_AA)
        assert results.response["violations"] == []
    finally:
        with django_db_blocker.unblock():
            Municipality.objects.filter(slug="laval").update(status=Municipality.Status.LIVE)
        routing.invalidate()
