"""Shared by the staff workspace's browser tests: staff accounts of Laval committed for the
live server (and removed with what they wrote), signing in the way a person does, axe, and the
screenshots of docs/staff.md.

Screenshots: `RELAIS_DOC_SCREENSHOTS=1 make pytest PYTEST_ARGS="-m e2e tests/e2e/test_desk_*.py"`
writes them to docs/staff/ (committed with the docs); otherwise `document()` does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from django.db import connection, transaction
from django.db.models import Q
from django_tenants.utils import schema_context

from crm.models import (
    AccessLog,
    Citizen,
    CitizenChange,
    Department,
    FaqArticle,
    FaqArticleVersion,
    Interaction,
    RequestAttachment,
    RequestCounter,
    RequestEvent,
    SavedView,
    ServiceCategory,
    ServiceRequest,
    ServiceType,
    StaffProfile,
)
from tenants.accounts.models import User
from tests.accounts import totp_code, totp_device
from tests.e2e.test_accessibility import WCAG_AA, committed
from tests.factories import TEST_PASSWORD

TOWN = "laval"
HOST = "laval.localhost"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "staff"
# Citizens a browser test creates use this domain, so that the clean-up finds them.
CITIZEN_DOMAIN = "e2e.exemple.qc.ca"
# Departments, categories and service types the browser tests commit have codes starting with
# this, so that `remove_e2e_catalog` finds them whichever file made them.
CODE_PREFIX = "e2e-"


@dataclass
class DeskAccount:
    email: str
    secret: str
    user_id: int


def _remove(email: str) -> None:
    """What an account wrote is evidence the database keeps (append-only timeline and access
    log): only a connection replaying as a replica, in tests, removes it."""
    with schema_context(TOWN), transaction.atomic():
        user = User.objects.filter(email=email).first()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        citizens = Citizen.objects.filter(email__endswith=f"@{CITIZEN_DOMAIN}")
        if user is not None:
            created = ServiceRequest.objects.filter(created_by=user)
            RequestEvent.objects.filter(request__in=created).delete()
            RequestAttachment.objects.filter(request__in=created).delete()
            Interaction.objects.filter(request__in=created).delete()
            ServiceRequest.objects.filter(duplicate_of__in=created).update(duplicate_of=None)
            created.delete()
            RequestEvent.objects.filter(actor=user).delete()
            RequestAttachment.objects.filter(uploaded_by=user).delete()
            Interaction.objects.filter(agent=user).delete()
            AccessLog.objects.filter(actor=user).delete()
            CitizenChange.objects.filter(actor=user).delete()
            SavedView.objects.filter(user=user).delete()
            StaffProfile.objects.filter(user=user).delete()
        Interaction.objects.filter(citizen__in=citizens).delete()
        AccessLog.objects.filter(citizen__in=citizens).delete()
        CitizenChange.objects.filter(citizen__in=citizens).delete()
        citizens.delete()
        if user is not None:
            user.delete()


def remove_e2e_catalog() -> None:
    """Every department, category and service type of Laval's whose code starts with
    CODE_PREFIX, with what points to them (requests and their timeline, articles and their
    versions, staff profiles), the citizens of CITIZEN_DOMAIN, and the request numbering once no
    request is left: other tests count Laval's catalog and number from 1. As a replica, like
    `_remove`."""
    with schema_context(TOWN), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        departments = Department.objects.filter(code__startswith=CODE_PREFIX)
        types = ServiceType.objects.filter(
            Q(code__startswith=CODE_PREFIX) | Q(department__in=departments)
        )
        requests = ServiceRequest.objects.filter(
            Q(service_type__in=types) | Q(department__in=departments)
        )
        RequestEvent.objects.filter(request__in=requests).delete()
        RequestAttachment.objects.filter(request__in=requests).delete()
        Interaction.objects.filter(Q(request__in=requests) | Q(department__in=departments)).delete()
        ServiceRequest.objects.filter(duplicate_of__in=requests).update(duplicate_of=None)
        requests.delete()
        articles = FaqArticle.objects.filter(owner_department__in=departments)
        FaqArticleVersion.objects.filter(article__in=articles).delete()
        articles.delete()
        StaffProfile.objects.filter(department__in=departments).delete()
        types.delete()
        ServiceCategory.objects.filter(code__startswith=CODE_PREFIX).delete()
        departments.delete()
        # The citizens the browser tests made (reporting on the portal, calls at the desk).
        citizens = Citizen.objects.filter(email__endswith=f"@{CITIZEN_DOMAIN}")
        Interaction.objects.filter(citizen__in=citizens).delete()
        AccessLog.objects.filter(citizen__in=citizens).delete()
        CitizenChange.objects.filter(citizen__in=citizens).delete()
        ServiceRequest.objects.filter(citizen__in=citizens).update(citizen=None)
        citizens.delete()
        # The yearly numbering their requests advanced: other tests number from 1.
        if not ServiceRequest.objects.exists():
            RequestCounter.objects.all().delete()


@contextmanager
def desk_account(
    email: str, role: str, *, department: str | None = None, first_name: str = "Agnès"
) -> Iterator[DeskAccount]:
    """A committed staff account of Laval with a TOTP device (`department`: a department code
    of the demo-free test town, created when missing)."""
    state: dict[str, Any] = {}

    def create() -> None:
        with schema_context(TOWN):
            user = User.objects.create_user(
                email=email, password=TEST_PASSWORD, first_name=first_name, last_name="Essai"
            )
            user.is_staff = True
            user.save()
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            held = None
            if department:
                held, _created = Department.objects.get_or_create(
                    code=department, defaults={"name_fr": department.capitalize()}
                )
            StaffProfile.objects.create(user=user, role=role, department=held)
            state["secret"] = totp_device(user)
            state["user_id"] = user.pk

    committed(lambda: _remove(email))
    committed(create)
    try:
        yield DeskAccount(email, state["secret"], state["user_id"])
    finally:
        committed(lambda: _remove(email))
        committed(remove_e2e_catalog)


def sign_in(page: Any, port: int, account: DeskAccount, *, path: str = "/personnel/") -> None:
    """E-mail and password, then the code, as a person does; ends on `path`."""
    page.goto(f"http://{HOST}:{port}{path}")
    page.get_by_label("Courriel").fill(account.email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_label("Code").fill(totp_code(account.secret))
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"**{path}")


def axe_violations(page: Any) -> list[str]:
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{page.url} {v['id']}: {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
    ]


def document(page: Any, name: str) -> None:
    """A screenshot for docs/staff.md, when RELAIS_DOC_SCREENSHOTS is set."""
    if os.environ.get("RELAIS_DOC_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)
