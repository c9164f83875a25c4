"""The double-submission guard every workspace form uses."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from crm.desk.once import claimed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _request(user: object) -> object:
    request = RequestFactory().post("/")
    request.user = user
    return request


def test_the_second_post_of_a_token_is_sent_where_the_first_went(laval: object) -> None:
    request = _request(UserFactory.build(pk=1))
    with claimed(request, "abc") as first:
        assert first.first
        first.done("/personnel/requetes/2026-000001/")

    with claimed(request, "abc") as second:
        assert not second.first
        assert second.done_url == "/personnel/requetes/2026-000001/"


def test_a_refused_form_releases_its_token(laval: object) -> None:
    request = _request(UserFactory.build(pk=2))
    with pytest.raises(ValueError, match="refusé"), claimed(request, "def"):
        raise ValueError("refusé")
    with claimed(request, "def") as again:
        assert again.first
    with claimed(request, "def") as no_page:  # ended without a page: released too
        assert no_page.first


def test_tokens_are_per_account(laval: object) -> None:
    with claimed(_request(UserFactory.build(pk=3)), "ghi") as one:
        one.done("/a/")
    with claimed(_request(UserFactory.build(pk=4)), "ghi") as other:
        assert other.first
