"""The workspace's door in Chromium: an agent signs in with their code and lands on the desk,
whose frame (navigation, language switch) passes axe in French and English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.desk import axe_violations, desk_account, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_an_agent_signs_in_and_reaches_the_desk_in_both_languages(page, live_port):
    with desk_account("e2e-porte@laval.localhost", "agent") as agent:
        sign_in(page, live_port, agent)

        expect(page.get_by_role("navigation", name="Espace du personnel")).to_be_visible()
        assert axe_violations(page) == []
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/en/staff/")
        expect(page.get_by_role("link", name="311 desk")).to_be_visible()
        assert axe_violations(page) == []
