"""Bad input in the town administration's forms (crm/admin.py: CitizenForm and FaqArticleForm,
posted to /admin/crm/…/add/ and …/change/ as Laval's municipal administrator).

For any posted data:
- the answer is never a server error;
- a refused form changes nothing in Laval or Lévis;
- an accepted citizen is stored as the services normalize contact data (names trimmed, the
  address of e-mail in lower case, the phone as ten ASCII digits) and passes the model's
  validation; an accepted article is stored as posted (trimmed), with its first or next
  version, and is found by the bank's search; only Laval changes.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from crm.models import Citizen, FaqArticle
from crm.services import citizen_create, normalize_phone
from tenants.models import Municipality
from tests.bad_input import (
    DATE_LIKE,
    bad_input_settings,
    form_data,
    long_text,
    nasty_text,
    rolled_back,
    shown,
    snapshot,
)
from tests.crm.admin_helpers import state_purpose
from tests.factories import (
    DepartmentFactory,
    FaqArticleFactory,
    ServiceCategoryFactory,
    ServiceTypeFactory,
)

pytestmark = pytest.mark.django_db

SCHEMAS = ("laval", "levis")
# A megabyte of distinct words: its search vector is over PostgreSQL's 1 MB.
HUGE_ANSWER = " ".join(f"mot{n}x" for n in range(110_000))
CITIZEN_FIELDS = {
    "first_name": st.sampled_from(["Camille", " Zoë ", "O'Neil-Côté"]),
    "last_name": st.sampled_from(["Tremblay", ""]),
    "email": st.sampled_from(["camille@exemple.qc.ca", " Camille@Exemple.QC.ca ", ""]),
    "phone": st.sampled_from(
        ["450 555-1234", "+1 (450) 555-1234", "", "١٢٣٤٥٦٧٨٩٠", "４５０５５５１２３４"]
    ),
    "address": st.sampled_from(["12, rue Principale", ""]),
    "preferred_language": st.sampled_from(["fr", "en"]),
    "notify_by_email": st.sampled_from(["on", ""]),
    "notify_by_sms": st.sampled_from(["on", ""]),
}


ACCESS_LOG = frozenset({"crm_accesslog"})


def _query(data: dict[str, Any]) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in data.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    return query


def _inline_management(client: Client, url: str) -> dict[str, str]:
    """The management form of each inline of an admin page, as the page renders it."""
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{formset.formset.prefix}-{name}"] = str(management[name].value())
    return data


def _posts(
    valid: dict[str, st.SearchStrategy[Any]], hostile: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Half the time a form a person fills in (it may still be refused), half the time any
    hostile data."""
    hostile = {name: st.one_of(strategy, nasty_text()) for name, strategy in hostile.items()}
    return st.booleans().flatmap(
        lambda filled_in: st.fixed_dictionaries(valid) if filled_in else form_data(hostile)
    )


def _expected_citizen(posted: QueryDict) -> dict[str, Any]:
    def text(name: str) -> str:
        return (posted.get(name) or "").strip()

    return {
        "first_name": text("first_name"),
        "last_name": text("last_name"),
        "email": text("email").lower(),
        "phone": normalize_phone(text("phone")),
        "address": text("address"),
        "notify_by_email": bool(posted.get("notify_by_email")),
    }


def test_a_citizen_is_added_or_changed_as_normalized_or_not_at_all(
    town_admin: Client, laval: Municipality
) -> None:
    with schema_context(laval.schema_name):
        existing = citizen_create(actor=None, email="existante@exemple.qc.ca")
    pages = {
        "add": "/admin/crm/citizen/add/",
        "change": f"/admin/crm/citizen/{existing.pk}/change/",
    }
    # A citizen's record opens once the staff member has said why (Law 25).
    state_purpose(town_admin, f"citizen:{existing.pk}", pages["change"])
    management = {action: _inline_management(town_admin, url) for action, url in pages.items()}
    seen: Counter = Counter()

    @bad_input_settings(max_examples=50)
    @given(action=st.sampled_from(["add", "change"]), data=_posts(CITIZEN_FIELDS, CITIZEN_FIELDS))
    def check(action: str, data: dict[str, Any]) -> None:
        shown(action=action, data=data)
        with rolled_back():
            # A refused form shows the record again: that view is in the access log (Law 25),
            # which is evidence, not a change of the record.
            before = snapshot(*SCHEMAS, skip=ACCESS_LOG)
            response = town_admin.post(pages[action], {**management[action], **data})
            # 400: refused before the view (a NUL character: shared_config.middleware).
            assert response.status_code in {200, 302, 400}, response.status_code
            changed = before.changed(snapshot(*SCHEMAS, skip=ACCESS_LOG))
            if response.status_code != 302:
                seen["refused"] += 1
                assert changed == []
                return
            seen[action] += 1
            # A creation always leaves its trail; a change does when a value really changed.
            if action == "add":
                assert changed == [
                    "laval.crm_citizen",
                    "laval.crm_citizenchange",
                    "laval.django_admin_log",
                ]
            else:
                assert set(changed) - {"laval.crm_citizenchange"} == {
                    "laval.crm_citizen",
                    "laval.django_admin_log",
                }
            with schema_context(laval.schema_name):
                stored = (
                    Citizen.objects.get(pk=existing.pk)
                    if action == "change"
                    else Citizen.objects.exclude(pk=existing.pk).get()
                )
                stored.full_clean(exclude=["account", "merged_into"])
            expected = _expected_citizen(_query(data))
            assert {name: getattr(stored, name) for name in expected} == expected
            assert re.fullmatch(r"([0-9]{10})?", stored.phone), stored.phone

    check()
    assert seen["add"] >= 2, seen
    assert seen["change"] >= 3, seen
    assert seen["refused"] >= 10, seen


def test_an_article_is_added_or_changed_as_posted_or_not_at_all(
    town_admin: Client, laval: Municipality
) -> None:
    with schema_context(laval.schema_name):
        department = DepartmentFactory(code="travaux")
        category = ServiceCategoryFactory(code="voirie")
        service_type = ServiceTypeFactory(code="nid-de-poule", department=department)
        existing = FaqArticleFactory(
            question_fr="Existante?",
            answer_fr="Oui.",
            question_en="",
            answer_en="",
            status="draft",
            owner_department=department,
        )
    pages = {
        "add": "/admin/crm/faqarticle/add/",
        "change": f"/admin/crm/faqarticle/{existing.pk}/change/",
    }
    management = {action: _inline_management(town_admin, url) for action, url in pages.items()}
    valid = {
        "question_fr": st.sampled_from(["Quand passe le déneigement?", " Où jeter les piles? "]),
        "answer_fr": st.one_of(st.sampled_from(["Dans les 12 heures."]), long_text()),
        "question_en": st.sampled_from(["When is snow cleared?"]),
        "answer_en": st.sampled_from(["Within 12 hours."]),
        "category": st.sampled_from([str(category.pk), ""]),
        "service_types": st.lists(st.just(str(service_type.pk)), max_size=1),
        "audience": st.sampled_from(["public", "agents"]),
        "status": st.sampled_from(["draft", "published", "archived"]),
        "owner_department": st.just(str(department.pk)),
        "review_on": st.dates(date(2000, 1, 1), date(2100, 1, 1)).map(str),
    }
    hostile = valid | {
        "answer_fr": st.sampled_from(["", HUGE_ANSWER]),
        "question_en": st.just(""),
        "category": st.just("999999"),
        "service_types": st.just(["x"]),
        "review_on": st.sampled_from(DATE_LIKE),
    }
    seen: Counter = Counter()

    @bad_input_settings(max_examples=50)
    @given(action=st.sampled_from(["add", "change"]), data=_posts(valid, hostile))
    def check(action: str, data: dict[str, Any]) -> None:
        shown(action=action, data=data)
        with rolled_back():
            before = snapshot(*SCHEMAS)
            response = town_admin.post(pages[action], {**management[action], **data})
            assert response.status_code in {200, 302, 400}, response.status_code  # 400: a NUL
            changed = before.changed(snapshot(*SCHEMAS))
            if response.status_code != 302:
                seen["refused"] += 1
                assert changed == []
                return
            seen[action] += 1
            assert set(changed) - {"laval.crm_faqarticle_service_types"} == {
                "laval.crm_faqarticle",
                "laval.crm_faqarticleversion",
                "laval.django_admin_log",
            }
            posted = _query(data)
            with schema_context(laval.schema_name):
                stored = (
                    FaqArticle.objects.get(pk=existing.pk)
                    if action == "change"
                    else FaqArticle.objects.exclude(pk=existing.pk).get()
                )
                stored.full_clean(exclude=["uuid", "search_vector", "question_vector"])
                assert stored.versions.count() == stored.version == (2 if action == "change" else 1)
                assert stored.search_vector is not None
            for name in ("question_fr", "answer_fr", "question_en", "answer_en"):
                assert getattr(stored, name) == (posted.get(name) or "").strip(), name

    check()
    assert seen["add"] >= 2, seen
    assert seen["change"] >= 3, seen
    assert seen["refused"] >= 10, seen


# --- Payloads the properties found ----------------------------------------------------------------
def test_a_phone_in_other_scripts_digits_is_stored_in_ascii(
    town_admin: Client, laval: Municipality
) -> None:
    # "١٢٣٤٥٦٧٨٩٠" passed as ten digits (\d matches every script's) and was stored as is:
    # never found by a search typed in ASCII, never dialled.
    management = _inline_management(town_admin, "/admin/crm/citizen/add/")

    response = town_admin.post(
        "/admin/crm/citizen/add/",
        {**management, "last_name": "Roy", "phone": "٤٥٠ ٥٥٥-١٢٣٤", "preferred_language": "fr"},
    )

    assert response.status_code == 302
    with schema_context(laval.schema_name):
        assert Citizen.objects.get().phone == "4505551234"
    assert normalize_phone("４５０５５５１２３４") == "4505551234"


def test_an_answer_too_long_for_the_search_is_refused_and_changes_nothing(
    town_admin: Client, laval: Municipality
) -> None:
    # A 1.1 MB answer made PostgreSQL's trigger fail ("string is too long for tsvector"):
    # the admin answered 500.
    with schema_context(laval.schema_name):
        department = DepartmentFactory(code="travaux")
    management = _inline_management(town_admin, "/admin/crm/faqarticle/add/")
    before = snapshot(*SCHEMAS)

    response = town_admin.post(
        "/admin/crm/faqarticle/add/",
        {
            **management,
            "question_fr": "Pourquoi?",
            "answer_fr": HUGE_ANSWER,
            "owner_department": department.pk,
            "audience": "public",
            "status": "draft",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["answer_fr"] == [
        "La réponse dépasse 20000 caractères."
    ]
    assert before.changed(snapshot(*SCHEMAS)) == []
