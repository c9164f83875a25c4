"""Bad input in the staff file of the onboarding wizard (onboarding/services.py:
staff_csv_preview, and the *Personnel* step of the console).

For any file:
- the preview answers rows and line errors, never an exception;
- a file that a CSV reader reads back as it was written is previewed exactly: each person's
  cells trimmed (NUL characters dropped), the address and the codes in lower case, the defaults
  filled in; a bad line is named and keeps the file from being saved;
- every row the preview accepts can be invited (an account is created in the town), so the
  provisioning never meets a staff line it cannot store;
- through the console: never a server error; a preview saves nothing; a confirmed preview is
  saved as previewed, and Laval and Lévis are untouched.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from onboarding.models import OnboardingProject, StaffRole
from onboarding.services import STAFF_COLUMNS, staff_csv_preview
from tenants.models import Municipality
from tenants.services import staff_invite
from tests.bad_input import (
    bad_input_settings,
    byte_mutations,
    committed,
    nasty_text,
    rolled_back,
    shown,
    snapshot,
)

pytestmark = pytest.mark.django_db

HEADERS = {
    "email": ["courriel", "email", "Courriel ", "EMAIL"],
    "first_name": ["prenom", "prénom", "first_name"],
    "last_name": ["nom", "last_name"],
    "role": ["role", "rôle"],
    "language": ["langue", "language"],
}
KEYS = [column.key for column in STAFF_COLUMNS]
# A valid address as long as an account's may be (64 + 1 + 189 = 254), and one longer that
# Django's validator still accepts (up to 320).
LONGEST_EMAIL = "a" * 64 + "@" + "b" * 62 + "." + "b" * 62 + "." + "c" * 60 + ".ca"
TOO_LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 62] * 4) + ".ca"
VALID_FILE = (
    "courriel;prenom;nom;role;langue\n"
    "agent1@terrebonne.qc.ca;Léa;Tremblay;personnel;fr\n"
    "Chef@Terrebonne.qc.ca;Omar;Roy;administrateur;en\n"
).encode()


# One line more than a staff file may have.
OVER_THE_LIMIT_FILE = (
    "courriel\n" + "".join(f"agent{n}@terrebonne.qc.ca\n" for n in range(2001))
).encode()


@dataclass(frozen=True)
class StaffFile:
    content: bytes
    header: list[str]
    rows: list[list[str]]
    delimiter: str


def _cell(column: str, number: int) -> st.SearchStrategy[str]:
    valid = {
        "email": [f"agent{number}@terrebonne.qc.ca", f"AGENT{number}@Terrebonne.QC.ca"],
        "first_name": ["Léa", "Zoë", ""],
        "last_name": ["Tremblay", "O'Neil-Côté", ""],
        "role": ["personnel", "administrateur", "ADMINISTRATEUR", ""],
        "language": ["fr", "en", "EN", ""],
    }[column]
    hostile = nasty_text()
    if column == "email":
        hostile = st.one_of(hostile, st.sampled_from([LONGEST_EMAIL, TOO_LONG_EMAIL]))
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), hostile)


@st.composite
def staff_files(draw: st.DrawFn) -> StaffFile:
    columns = draw(st.permutations(KEYS))
    columns = columns[: draw(st.integers(1, len(columns)))]
    header = [draw(st.sampled_from(HEADERS[column])) for column in columns]
    header += draw(st.lists(nasty_text(10), max_size=1))  # a column nobody reads
    rows = [
        [draw(_cell(column, number)) for column in columns] + [""] * (len(header) - len(columns))
        for number in range(draw(st.integers(0, 4)))
    ]
    delimiter = draw(st.sampled_from([",", ";"]))
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerows([header, *rows])
    content = buffer.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        content = b"\xef\xbb\xbf" + content
    return StaffFile(content=content, header=header, rows=rows, delimiter=delimiter)


def _expected(file: StaffFile) -> list[dict[str, str]] | None:
    """The rows the preview must give, or None when the file does not read back as written
    (a CSV writer leaves some characters unquoted) or is not one the preview reads the same
    way (its delimiter is guessed from the header)."""
    text = file.content.decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text, newline=""), delimiter=file.delimiter))
    guessed = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    if read != [file.header, *file.rows] or guessed != file.delimiter:
        return None
    column_of = {
        name.strip().lower(): column for column, names in HEADERS.items() for name in names
    }
    if len({column_of.get(name.strip().lower()) for name in file.header} - {None}) < len(
        [name for name in file.header if column_of.get(name.strip().lower())]
    ):
        return None  # a column given twice under two names: which one wins is not the test's
    rows = []
    for cells in file.rows:
        row = dict.fromkeys(KEYS, "")
        for name, cell in zip(file.header, cells, strict=True):
            column = column_of.get(name.strip().lower())
            if column:
                row[column] = cell.replace("\x00", "").strip()
        if not any(row.values()):
            continue
        row["email"] = row["email"].lower()
        row["role"] = (row["role"] or StaffRole.STAFF).lower()
        row["language"] = (row["language"] or "fr").lower()
        rows.append(row)
    return rows


def _valid(row: dict[str, str]) -> bool:
    try:
        validate_email(row["email"])
    except ValidationError:
        return False
    return (
        len(row["email"]) <= 254
        and row["role"] in StaffRole.values
        and row["language"] in {"fr", "en"}
        and len(row["first_name"]) <= 150
        and len(row["last_name"]) <= 150
    )


def test_any_staff_file_is_previewed_exactly_and_every_accepted_row_can_be_invited(
    laval: Municipality,
) -> None:
    seen: Counter = Counter()

    @bad_input_settings(max_examples=120)
    @given(file=st.one_of(staff_files(), byte_mutations(VALID_FILE), st.just(OVER_THE_LIMIT_FILE)))
    def check(file: StaffFile | bytes) -> None:
        content = file.content if isinstance(file, StaffFile) else file
        shown(content=content)
        preview = staff_csv_preview(content=content)

        assert preview.valid == (not preview.errors and bool(preview.rows))
        if content == OVER_THE_LIMIT_FILE:
            assert [error.message for error in preview.errors] == [
                "Le fichier dépasse 2000 lignes."
            ]
        assert all(error.message.strip() and error.line >= 0 for error in preview.errors)
        for row in preview.rows:
            assert _valid(row), row
            assert not any("\x00" in value for value in row.values())
        expected = _expected(file) if isinstance(file, StaffFile) else None
        if expected is not None:
            seen["predictable"] += 1
            valid = [row for row in expected if _valid(row)]
            addresses = [row["email"] for row in valid]
            if len(valid) == len(expected) and len(set(addresses)) == len(addresses) and valid:
                assert preview.valid, preview.errors
            if preview.valid:
                assert preview.rows == expected
        if not preview.valid:
            seen["refused"] += 1
            return
        seen["accepted"] += 1
        with rolled_back(), committed():
            for row in preview.rows:
                staff_invite(
                    municipality=laval,
                    email=row["email"],
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    administrator=row["role"] == StaffRole.ADMINISTRATOR,
                    language=row["language"],
                )

    check()
    assert seen["accepted"] >= 10, seen
    assert seen["refused"] >= 10, seen
    assert seen["predictable"] >= 30, seen


# --- Through the console --------------------------------------------------------------------------
def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("personnel.csv", content, content_type="text/csv")


def test_the_staff_step_never_fails_and_saves_only_a_confirmed_preview(
    operator: Client, draft_project: OnboardingProject
) -> None:
    step = f"/console/projets/{draft_project.pk}/etapes/personnel/"
    seen: Counter = Counter()

    @bad_input_settings(max_examples=40)
    @given(
        file=st.one_of(
            st.just(VALID_FILE),
            staff_files().map(lambda file: file.content),
            byte_mutations(VALID_FILE),
        ),
        administrator=st.one_of(
            st.sampled_from(["dg@terrebonne.qc.ca", " DG@Terrebonne.qc.ca "]),
            nasty_text(),
            st.just(TOO_LONG_EMAIL),
        ),
    )
    def check(file: bytes, administrator: str) -> None:
        shown(file=file, administrator=administrator)
        with rolled_back():
            before = snapshot("public", "laval", "levis")
            preview = operator.post(
                step, {"administrator_email": administrator, "staff_file": _upload(file)}
            )
            assert preview.status_code in {200, 422}
            assert before.changed(snapshot("public", "laval", "levis")) == []
            signed = (preview.context or {}).get("signed_rows")
            if not signed:
                seen["refused"] += 1
                return
            seen["previewed"] += 1
            with committed():
                confirmed = operator.post(
                    step, {"administrator_email": administrator, "staff_rows": signed}
                )
            assert confirmed.status_code == 302
            draft_project.refresh_from_db()
            assert draft_project.staff == preview.context["preview"].rows
            assert draft_project.administrator_email == administrator.strip().lower()
            assert before.changed(snapshot("public", "laval", "levis")) == [
                "public.onboarding_auditentry",
                "public.onboarding_onboardingproject",
            ]

    check()
    assert seen["previewed"] >= 3, seen
    assert seen["refused"] >= 5, seen


# --- Payloads the properties found ----------------------------------------------------------------
def test_a_cell_over_the_csv_limit_is_a_line_error_not_a_crash() -> None:
    preview = staff_csv_preview(content=b"courriel,prenom\na@b.ca," + b"x" * 200_000 + b"\n")

    assert not preview.valid
    assert [(error.line, error.column) for error in preview.errors] == [(2, "")]
    assert preview.errors[0].message.startswith("Ligne illisible : field larger than field limit")


def test_nul_characters_are_dropped_and_line_separators_stay_in_their_cell() -> None:
    # "x\x00y" was previewed as is, then refused by PostgreSQL when the step was saved; a
    # U+2028 or form feed in a name cut its line in two (str.splitlines), the second half
    # then refused as an address.
    preview = staff_csv_preview(
        content="courriel,prenom,nom\na@b.ca,Jean\u2028Paul,Ro\x00y\nc@d.ca,Ana\x0cMaria,\n".encode()
    )

    assert preview.errors == []
    assert [(row["first_name"], row["last_name"]) for row in preview.rows] == [
        ("Jean\u2028Paul", "Roy"),
        ("Ana\x0cMaria", ""),
    ]


def test_an_address_longer_than_an_account_can_hold_is_refused() -> None:
    # Django's validator accepts up to 320 characters; the account's column holds 254, and the
    # provisioning failed on it after the preview had accepted it.
    preview = staff_csv_preview(content=f"courriel\n{LONGEST_EMAIL}\n{TOO_LONG_EMAIL}\n".encode())

    assert [row["email"] for row in preview.rows] == [LONGEST_EMAIL]
    assert [(error.line, error.message) for error in preview.errors] == [
        (3, "L'adresse dépasse 254 caractères.")
    ]


def test_the_administrators_address_is_checked_at_the_preview_and_kept_in_lower_case(
    operator: Client, draft_project: OnboardingProject
) -> None:
    step = f"/console/projets/{draft_project.pk}/etapes/personnel/"

    too_long = operator.post(
        step, {"administrator_email": TOO_LONG_EMAIL, "staff_file": _upload(VALID_FILE)}
    )
    preview = operator.post(
        step, {"administrator_email": " Chef@Terrebonne.qc.ca ", "staff_file": _upload(VALID_FILE)}
    )
    confirmed = operator.post(
        step,
        {
            "administrator_email": " Chef@Terrebonne.qc.ca ",
            "staff_rows": preview.context["signed_rows"],
        },
    )

    assert too_long.status_code == 200
    assert "signed_rows" not in too_long.context
    assert confirmed.status_code == 302
    draft_project.refresh_from_db()
    # The same address as the staff line's, so the provisioning invites this person once.
    assert draft_project.administrator_email == "chef@terrebonne.qc.ca"
    assert draft_project.staff[1]["email"] == "chef@terrebonne.qc.ca"
