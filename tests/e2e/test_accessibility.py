"""axe-core (WCAG 2.1 A and AA rules) on every page of the foundation, in Chromium."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections

from tenants import routing
from tenants.models import Municipality

# The django_db marker makes pytest-django set up the test database (without it, a run of the
# browser tests alone would reach the development database). The server thread has its own
# connection and sees committed data only: see `committed` for the one test that writes.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    # Not the CSSOM: axe rebuilds @imported stylesheets (the admin's forms.css) in inline <style>
    # elements, which the Content-Security-Policy refuses, and only css-orientation-lock reads
    # it, an experimental rule these tags do not run (the same rules run either way).
    "preload": {"assets": ["media"]},
}

PAGES = [
    ("laval.localhost", "/", 200),
    ("laval.localhost", "/en/", 200),
    ("levis.localhost", "/", 200),
    ("localhost", "/", 200),
    ("localhost", "/en/", 200),
    ("inconnue.localhost", "/", 404),
    ("laval.localhost", "/page-qui-n-existe-pas/", 404),
    # Sign-in and the citizens' sign-up (django-allauth in Relais's layout), both languages.
    ("laval.localhost", "/comptes/login/", 200),
    ("laval.localhost", "/en/comptes/login/", 200),
    ("laval.localhost", "/comptes/signup/", 200),
    ("laval.localhost", "/comptes/password/reset/", 200),
    ("localhost", "/comptes/login/", 200),
    ("laval.localhost", "/api/docs/", 200),
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


def committed(function: Callable[[], object]) -> None:
    """Run `function` on a connection of its own, outside the test's transaction, and commit."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            function()
        except BaseException as error:  # re-raised in the test's thread below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


def _set_laval_status(status: str) -> None:
    Municipality.objects.filter(slug="laval").update(status=status)


def test_suspended_town_page_is_accessible(page, live_port):
    committed(lambda: _set_laval_status(Municipality.Status.SUSPENDED))
    routing.invalidate()
    try:
        response = page.goto(f"http://laval.localhost:{live_port}/")
        assert response.status == 503
        assert "Service temporairement interrompu" in page.content()
        results = Axe().run(page, options=WCAG_AA)
        assert results.response["violations"] == []
    finally:
        committed(lambda: _set_laval_status(Municipality.Status.LIVE))
        routing.invalidate()


def test_a_form_refused_by_the_csrf_check_is_accessible(page, live_port):
    page.goto(f"http://laval.localhost:{live_port}/comptes/login/")
    page.context.clear_cookies()  # the CSRF cookie is gone: the form is refused
    page.get_by_label("Courriel").fill("personne@exemple.qc.ca")
    page.get_by_label("Mot de passe").fill("mot-de-passe")

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Connexion").click()

    assert navigation.value.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Formulaire refusé"
    results = Axe().run(page, options=WCAG_AA)
    assert results.response["violations"] == []
