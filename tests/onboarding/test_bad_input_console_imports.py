"""Bad input in the console's imports (onboarding/views.py: a town's page): the upload, column
mapping, check and import of historical requests, and the Open311 service list.

For any file and any posted mapping, as a signed-in operator:
- the answer is never a server error;
- an upload or a refused check or import changes no row (the upload waits in its folder),
  a check writes its audit entry only, an accepted import adds Laval's requests and its
  audit entry, and Lévis is never touched;
- a file a person maps with the columns the page offers, in its own encoding, is accepted.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from crm.imports.requests import FIELDS
from tests.bad_input import (
    bad_input_settings,
    byte_mutations,
    form_data,
    json_value,
    mostly,
    nasty_text,
    rolled_back,
    shown,
    snapshot,
)

pytestmark = pytest.mark.django_db

SCHEMAS = ("public", "laval", "levis")
PAGE = "/console/municipalites/laval/import-requetes/"
IMPORTED = [
    "laval.crm_requestcounter",
    "laval.crm_requestevent",
    "laval.crm_servicerequest",
    "public.onboarding_auditentry",
]
# Column names with accents, as a French spreadsheet has them.
COLUMNS = {
    "service_code": "Catégorie",
    "created_at": "Créée le",
    "status": "État",
    "channel": "Canal",
    "description": "Détails",
    "external_id": "N°",
}


def _file(rows: list[list[str]], encoding: str, delimiter: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(
        [list(COLUMNS.values()), *rows]
    )
    return buffer.getvalue().encode(encoding)


VALID_ROWS = [
    ["nid-de-poule", "2024-03-05 09:15", "closed", "phone", "Trou près de l'école", "A-1"],
    ["graffiti", "2023-12-30", "new", "web", "Graffiti sur l'abribus", "A-2"],
]


@st.composite
def _person_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """A valid file in UTF-8 or Windows-1252 and the encoding a person would choose."""
    encoding = draw(st.sampled_from(["utf-8-sig", "cp1252"]))
    return _file(VALID_ROWS, encoding, draw(st.sampled_from([",", ";"]))), encoding


def _upload(content: bytes, name: str = "historique.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _mapping_choices(client: Client) -> dict[str, list[str]]:
    """The columns the mapping page offers for each Relais field."""
    page = client.get(PAGE)
    assert page.status_code == 200
    form = page.context["form"]
    return {
        name: [value for value, _label in form.fields[f"col_{name}"].choices] for name in FIELDS
    }


def test_a_file_mapped_as_a_person_maps_it_is_accepted_whatever_its_encoding(
    operator: Client, import_catalog: dict, exports_in_tmp: Any
) -> None:
    @bad_input_settings(max_examples=8)
    @given(file=_person_files(), import_it=st.booleans())
    def check(file: tuple[bytes, str], import_it: bool) -> None:
        content, encoding = file
        shown(content=content, encoding=encoding)
        with rolled_back():
            uploaded = operator.post(PAGE, {"requests_file": _upload(content)})
            assert uploaded.status_code == 302
            offered = _mapping_choices(operator)
            for name, column in COLUMNS.items():
                assert column in offered[name], (column, offered[name])
            mapping = {f"col_{name}": column for name, column in COLUMNS.items()}
            before = snapshot(*SCHEMAS)
            response = operator.post(
                PAGE, {**mapping, "encoding": encoding, **({"import": "1"} if import_it else {})}
            )
            changed = before.changed(snapshot(*SCHEMAS))
            if import_it:
                assert response.status_code == 302, response.context.get("problems")
                assert changed == IMPORTED
            else:
                assert response.status_code == 200, response.context.get("problems")
                assert response.context["report"].imported == 2
                assert changed == ["public.onboarding_auditentry"]

    check()


def _mappings(columns: list[str], guessed: str) -> st.SearchStrategy[dict[str, Any]]:
    """Half the time the mapping a person makes of the columns offered (keeping, mostly, the
    encoding the page guessed), to check the file or to import it; else any."""
    column = st.sampled_from(["", *columns]) if columns else st.just("")
    person = st.fixed_dictionaries(
        {
            **{
                f"col_{name}": st.just(given if given in columns else "")
                for name, given in COLUMNS.items()
            },
            "encoding": mostly(st.just(guessed), st.sampled_from(["utf-8-sig", "cp1252"])),
            "default_channel": st.sampled_from(["", "phone"]),
        }
    ).flatmap(lambda mapping: st.sampled_from([mapping, {**mapping, "import": "1"}]))
    return st.booleans().flatmap(lambda filled_in: person if filled_in else _any_mapping(column))


def _any_mapping(column: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return form_data(
        {
            **{f"col_{name}": column for name in FIELDS},
            "default_status": st.sampled_from(["", "new", "closed", "duplicate"]),
            "default_channel": st.sampled_from(["", "phone", "web"]),
            "date_format": mostly(
                st.sampled_from(["", "%Y-%m-%d %H:%M", "%d/%m/%Y"]),
                st.sampled_from(["%", "%Q", "\x00", "%Y" * 30]),
            ),
            "encoding": st.sampled_from(["utf-8-sig", "cp1252", "undefined"]),
            "import": st.sampled_from(["1"]),
        }
    )


def _contents() -> st.SearchStrategy[bytes]:
    valid = _file(VALID_ROWS, "utf-8", ";")
    windows = _file(VALID_ROWS, "cp1252", ",")
    return mostly(
        st.sampled_from([valid, windows]),
        byte_mutations(valid),
        byte_mutations(windows),
        st.binary(max_size=200),
        st.just(b"Cat\xe9gorie;" + b"x" * 70_000 + b"\n"),  # a header past the page's 64 KiB
        st.just(b""),
        st.lists(nasty_text(), min_size=1, max_size=5).map(
            lambda cells: _file([cells + [""] * (len(COLUMNS) - len(cells))], "utf-8", ",")
        ),
    )


def test_any_upload_and_any_mapping_answer_a_page_and_import_whole_or_nothing(
    operator: Client, import_catalog: dict, exports_in_tmp: Any
) -> None:
    seen: Counter = Counter()

    @bad_input_settings(max_examples=80)
    @given(
        content=_contents(),
        # Any name a client can send (a path is refused before it leaves the test client).
        name=mostly(
            st.just("historique.csv"),
            nasty_text().filter(lambda name: "/" not in name and name not in {"", ".", ".."}),
        ),
        data=st.data(),
    )
    def check(content: bytes, name: str, data: st.DataObject) -> None:
        shown(content=content, name=name)
        with rolled_back():
            before = snapshot(*SCHEMAS)
            uploaded = operator.post(PAGE, {"requests_file": _upload(content, name or "x")})
            assert uploaded.status_code in {302, 400}, uploaded.status_code
            assert before.changed(snapshot(*SCHEMAS)) == []
            if uploaded.status_code == 400 or uploaded.url != PAGE:
                # Refused, or a name Django keeps nothing of: no file, so back to the town.
                seen["upload refused"] += 1
                return
            page = operator.get(PAGE)
            offered = _mapping_choices(operator)["service_code"][1:]
            guessed = page.context["form"].initial.get("encoding") or "utf-8-sig"
            mapping = data.draw(_mappings(offered, guessed), label="mapping")
            response = operator.post(PAGE, mapping)
            # 400: a NUL in a field, refused before the view (shared_config.middleware).
            assert response.status_code in {200, 302, 400, 422}, response.status_code
            changed = before.changed(snapshot(*SCHEMAS))
            if response.status_code == 302:
                seen["imported"] += 1
                assert changed in ([], IMPORTED)  # [] when every line was already imported
            elif response.status_code == 200 and "report" in response.context:
                seen["checked"] += 1
                assert changed == ["public.onboarding_auditentry"]
            else:
                seen["refused"] += 1
                assert changed == []

    # The import this property guards, done once the way a person does it: it can succeed.
    with rolled_back():
        before = snapshot(*SCHEMAS)
        valid = _file(VALID_ROWS, "utf-8", ";")
        assert operator.post(PAGE, {"requests_file": _upload(valid)}).status_code == 302
        person = {f"col_{name}": given for name, given in COLUMNS.items()}
        imported = operator.post(PAGE, {**person, "encoding": "utf-8-sig", "import": "1"})
        assert imported.status_code == 302
        assert before.changed(snapshot(*SCHEMAS)) == IMPORTED

    check()
    # How often a drawn mapping imports depends on the draws; reached at least once.
    assert seen["refused"] >= 10, seen
    assert seen["imported"] >= 1, seen
    assert seen["checked"] >= 3, seen


# --- The Open311 service list ---------------------------------------------------------------------
SERVICES = json.dumps(
    [
        {
            "service_code": "001",
            "service_name": "Nid-de-poule",
            "group": "Voirie",
            "attributes": [{"code": "TAILLE", "datatype": "string", "description": "Taille"}],
        }
    ]
).encode()


def test_a_service_list_is_imported_into_the_chosen_department_or_not_at_all(
    operator: Client, import_catalog: dict
) -> None:
    seen: Counter = Counter()

    @bad_input_settings(max_examples=40)
    @given(
        content=st.one_of(
            byte_mutations(SERVICES),
            json_value().map(lambda value: json.dumps(value).encode()),
            st.binary(max_size=100),
        ),
        data=form_data(
            {
                "department": st.sampled_from(["voirie", "VOIRIE", "inconnu", ""]),
                "language": st.sampled_from(["fr", "en", "de"]),
            }
        ),
    )
    def check(content: bytes, data: dict[str, Any]) -> None:
        shown(content=content, data=data)
        with rolled_back():
            before = snapshot(*SCHEMAS)
            response = operator.post(
                "/console/municipalites/laval/import-services/",
                {**data, "services_file": _upload(content, "services.json")},
            )
            assert response.status_code in {302, 400}, response.status_code
            changed = before.changed(snapshot(*SCHEMAS))
            if response.status_code == 400:
                seen["refused"] += 1
                assert changed == []
                return
            seen["imported"] += 1
            assert {"public.onboarding_auditentry", "laval.crm_servicetype"} <= set(changed)
            # The catalog, and the version of the town's intake configuration it moves.
            assert all(
                table.startswith(("laval.crm_service", "laval.crm_townconfigversion", "public."))
                for table in changed
            )

    check()
    assert seen["imported"] >= 3, seen
    assert seen["refused"] >= 10, seen


def test_a_windows_1252_file_offers_its_accented_columns_and_imports(
    operator: Client, import_catalog: dict, exports_in_tmp: Any
) -> None:
    # The page read every header as UTF-8: "Catégorie" was offered as "Cat�gorie", a column
    # the import (reading the file in Windows-1252) never found, so the file could not be
    # imported from the console at all.
    content = _file(VALID_ROWS, "cp1252", ";")
    operator.post(PAGE, {"requests_file": _upload(content)})

    page = operator.get(PAGE)
    mapping = {f"col_{name}": column for name, column in COLUMNS.items()}
    before = snapshot(*SCHEMAS)
    imported = operator.post(PAGE, {**mapping, "encoding": "cp1252", "import": "1"})

    form = page.context["form"]
    assert form["encoding"].value() == "cp1252"  # guessed from the file
    assert ("Catégorie", "Catégorie") in form.fields["col_service_code"].choices
    assert imported.status_code == 302
    assert before.changed(snapshot(*SCHEMAS)) == IMPORTED
