"""One coded-error base: every app's error is a `CodedError` whose code belongs to its enum, and
the CRM's codes (those API clients see) are all documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crm.errors import CrmError, CrmErrorCode
from onboarding.errors import OnboardingError, OnboardingErrorCode
from shared_config.exceptions import CodedError
from tenants.errors import TaskWorkerLost, TenancyError, TenancyErrorCode

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.mark.parametrize(
    ("error", "codes"),
    [
        (CrmError, CrmErrorCode),
        (OnboardingError, OnboardingErrorCode),
        (TenancyError, TenancyErrorCode),
    ],
)
def test_each_app_error_is_the_one_base_with_its_own_codes(error, codes):
    code = next(iter(codes))
    raised = error(code.value, "Message.", status=409, field="name")

    assert isinstance(raised, CodedError)
    assert raised.code is code
    assert (raised.message, raised.status, raised.field, str(raised)) == (
        "Message.",
        409,
        "name",
        "Message.",
    )


def test_a_code_outside_the_apps_enum_is_refused_where_the_error_is_built():
    with pytest.raises(ValueError, match="no_such_code"):
        CrmError("no_such_code", "Message.")
    # Another app's code is not this app's either.
    with pytest.raises(ValueError, match="task_worker_lost"):
        CrmError(TenancyErrorCode.TASK_WORKER_LOST, "Message.")


def test_a_specialised_error_keeps_its_code():
    assert TaskWorkerLost(attempts=3).code is TenancyErrorCode.TASK_WORKER_LOST


def test_every_crm_code_is_documented_for_api_clients_and_nothing_else_is():
    section = API_DOC.read_text().split("### Error codes", 1)[1].split("Codes of the framework")[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \| \d{3} \|", section, re.MULTILINE))

    assert documented == {code.value for code in CrmErrorCode}
