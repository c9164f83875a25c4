"""Bad input in the citizen sign-up (django-allauth at /comptes/signup/ on a town's host).

For any posted data:
- the answer is never a server error;
- a refused sign-up changes nothing in Laval or Lévis and sends no e-mail;
- an accepted one creates, in Laval only, one account and its citizen record, both with the
  address in lower case, and sends one e-mail to that address (its confirmation, or, for an
  address already registered, the notice allauth sends instead of saying so on the page).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from crm.models import Citizen
from tenants.accounts.models import User
from tenants.models import Municipality
from tests.bad_input import (
    bad_input_settings,
    committed,
    form_data,
    mostly,
    nasty_text,
    rolled_back,
    shown,
    snapshot,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SCHEMAS = ("laval", "levis")
PASSWORD = "Citoyen-tres-solide-2026"
TOO_LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 62] * 4) + ".ca"
EMAILS = st.sampled_from(
    [
        "citoyenne@exemple.qc.ca",
        " Citoyenne@Exemple.QC.ca ",
        "déjà@exemple.qc.ca",
        "existante@exemple.qc.ca",  # already registered in Laval
        "levis@exemple.qc.ca",  # registered in Lévis only
        "a@bücher.ca",
        "İ@exemple.qc.ca",  # a Turkish keyboard's capital I
        TOO_LONG_EMAIL,
    ]
)


def _posts() -> st.SearchStrategy[dict[str, Any]]:
    valid = st.fixed_dictionaries(
        {"email": EMAILS, "password1": st.just(PASSWORD), "password2": st.just(PASSWORD)}
    )
    hostile = form_data(
        {
            "email": mostly(EMAILS, nasty_text()),
            "password1": mostly(st.just(PASSWORD), nasty_text()),
            "password2": mostly(st.just(PASSWORD), nasty_text()),
        }
    )
    return st.booleans().flatmap(lambda filled_in: valid if filled_in else hostile)


def test_a_sign_up_creates_one_account_and_its_citizen_or_nothing(
    laval: Municipality, levis: Municipality, client_for: Any
) -> None:
    with schema_context(laval.schema_name):
        UserFactory(email="existante@exemple.qc.ca")
    with schema_context(levis.schema_name):
        UserFactory(email="levis@exemple.qc.ca")
    seen: Counter = Counter()

    @bad_input_settings(max_examples=40)
    @given(data=_posts())
    def check(data: dict[str, Any]) -> None:
        shown(data=data)
        client: Client = client_for(laval)
        with rolled_back():
            before = snapshot(*SCHEMAS)
            with committed():
                response = client.post("/comptes/signup/", data)
            assert response.status_code in {200, 302, 400}, response.status_code  # 400: a NUL
            changed = before.changed(snapshot(*SCHEMAS))
            if response.status_code != 302:
                seen["refused"] += 1
                assert changed == []
                assert mail.outbox == []
                return
            email = str(data["email"]).strip().lower()
            assert [message.to for message in mail.outbox] == [[email]]
            if email == "existante@exemple.qc.ca":
                seen["already registered"] += 1
                assert changed == []
                return
            seen["signed up"] += 1
            assert changed == [
                "laval.account_emailaddress",
                "laval.accounts_user",
                "laval.crm_citizen",
            ]
            with schema_context(laval.schema_name):
                user = User.objects.get(email=email)
                user.full_clean()
                citizen = Citizen.objects.get(account=user)
                citizen.full_clean(exclude=["account", "merged_into"])
                assert citizen.email == email

    check()
    assert seen["signed up"] >= 5, seen
    assert seen["refused"] >= 10, seen


@pytest.mark.parametrize(
    ("email", "message"),
    [
        # Django's validator takes 320 characters, the account and the citizen 254; and
        # "İ@…" lower-cases to "i̇@…", which is no address. The account was saved, then its
        # citizen record refused the address: a 500 and an account without a citizen.
        (TOO_LONG_EMAIL, "L'adresse dépasse 254 caractères."),
        ("İ@exemple.qc.ca", "Saisissez une adresse courriel valide."),
    ],
)
def test_an_address_no_citizen_record_can_hold_is_refused_at_sign_up(
    laval: Municipality, client_for: Any, email: str, message: str
) -> None:
    before = snapshot(*SCHEMAS)

    response = client_for(laval).post(
        "/comptes/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [message]
    assert before.changed(snapshot(*SCHEMAS)) == []
    assert mail.outbox == []
