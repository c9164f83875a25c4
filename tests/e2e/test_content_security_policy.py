"""The Content-Security-Policy in Chromium: the watch that every browser test runs under
(conftest.py) reports what a policy refuses, and the pages no accessibility test opens (the
second factor's set-up, Django's admin on a town and on the platform, with its pop-up and
inline scripts at work) break no rule of it.

The `page` fixture fails a test at teardown on any violation: the tests below only open the
pages and check that they were served."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django_tenants.utils import schema_context

from crm.models import Department
from tenants.accounts.models import User
from tests.accounts import totp_code, totp_device
from tests.e2e.conftest import watch_csp_violations
from tests.e2e.test_accessibility import committed
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

TOWN_ADMIN = "csp-admin@laval.localhost"
PLATFORM_ADMIN = "csp-admin@localhost"
POPUP_DEPARTMENT = "csp-essai"

_REFUSED = """<!DOCTYPE html><html lang="fr"><head><title>Refus</title>
<style>p { color: red; }</style>
<script>document.title = "exécuté";</script>
</head><body><p style="color: blue">Texte</p></body></html>"""


def test_the_watch_reports_each_kind_of_inline_content_a_policy_refuses(browser):
    context = browser.new_context()
    violations = watch_csp_violations(context)
    page = context.new_page()
    # Served by the browser itself (no network): a page under a policy of the project's kind.
    page.route(
        "http://csp.invalid/",
        lambda route: route.fulfill(
            body=_REFUSED,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'self'"},
        ),
    )
    try:
        page.goto("http://csp.invalid/")
        assert page.title() == "Refus"  # the script was refused
        page.evaluate("0")  # the reports sent so far are received
    finally:
        context.close()

    reported = "\n".join(violations)
    for directive in ("style-src-elem", "script-src-elem", "style-src-attr"):
        assert f"enforce {directive}: inline" in reported, reported
    assert "console: " in reported  # the console's report too


def _remove_what_the_tests_made() -> None:
    with schema_context("laval"):
        User.objects.filter(email=TOWN_ADMIN).delete()
        Department.objects.filter(code=POPUP_DEPARTMENT).delete()
    with schema_context("public"):
        user = User.objects.filter(email=PLATFORM_ADMIN).first()
        if user is not None:
            Authenticator.objects.filter(user=user).delete()
            user.emailaddress_set.all().delete()
            # The ORM's cascade would look for the towns' tables (crm) in the public schema.
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])


@pytest.fixture
def administrators():
    """A superuser of Laval without a second factor yet, and one of the platform with one."""
    state: dict[str, object] = {}

    def create() -> None:
        with schema_context("laval"):
            town_admin = UserFactory(email=TOWN_ADMIN, is_staff=True, is_superuser=True)
            state["town_admin"] = town_admin.pk
        with schema_context("public"):
            platform_admin = UserFactory(email=PLATFORM_ADMIN, is_staff=True, is_superuser=True)
            state["secret"] = totp_device(platform_admin)

    committed(_remove_what_the_tests_made)
    committed(create)
    yield state
    committed(_remove_what_the_tests_made)


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()


def test_second_factor_set_up_and_a_towns_admin_break_no_policy_rule(
    page, live_port, administrators
):
    base = f"http://laval.localhost:{live_port}"
    _sign_in(page, base, TOWN_ADMIN)

    # The admin requires a second factor: its set-up shows a QR code (a data: image).
    assert "/comptes/2fa/totp/activate/" in page.url
    assert page.locator("img[src^='data:image/svg+xml']").count() == 1
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Activer").click()
    page.goto(f"{base}/admin/")
    assert page.url == f"{base}/admin/"

    user = administrators["town_admin"]
    for path in [
        "/admin/",  # django-tenants' captions, without their inline styles
        "/admin/crm/servicetype/",  # filters, search, actions
        "/admin/crm/servicetype/add/",  # related-object widgets, inlines
        "/admin/crm/faqarticle/",
        "/admin/crm/faqarticle/add/",
        "/admin/crm/upstreamupdate/",
        "/admin/crm/businesscalendar/",
        "/admin/crm/apikey/add/",
        f"/admin/accounts/user/{user}/change/",  # the permissions' two-list selector
        "/admin/accounts/user/add/",
        "/comptes/2fa/",
        "/comptes/2fa/recovery-codes/",
        "/comptes/password/change/",
    ]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path

    # The admin's scripts at work: a related object added in a pop-up window (which hands it
    # back to the form that opened it), and a row added to an inline.
    page.goto(f"{base}/admin/crm/servicetype/add/")
    with page.expect_popup() as popup_info:
        page.locator("#add_id_department").click()
    popup = popup_info.value
    popup.get_by_label("Code").fill(POPUP_DEPARTMENT)
    popup.get_by_label("Nom (français)").fill("Service d'essai")
    # Listening before the click: on a busy machine the pop-up could close (its response page
    # hands the object back and closes it) before a wait begun after the click.
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Enregistrer", exact=True).click()
    assert page.locator("#id_department option:checked").inner_text() == "Service d'essai"
    rows = page.locator(".dynamic-attributes")
    page.locator("#attributes-group .add-row a").click()
    assert rows.count() == 1


def test_the_platforms_admin_breaks_no_policy_rule(page, live_port, administrators):
    base = f"http://localhost:{live_port}"
    _sign_in(page, base, PLATFORM_ADMIN)
    page.get_by_label("Code").fill(totp_code(administrators["secret"]))
    page.get_by_role("button", name="Connexion").click()
    assert page.url == f"{base}/admin/"

    for path in [
        "/admin/",  # the towns' apps captioned "not available" here
        "/admin/tenants/municipality/",
        "/admin/tenants/municipality/add/",
        "/admin/tenants/domain/",
    ]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
