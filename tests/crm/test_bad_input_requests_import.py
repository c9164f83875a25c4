"""Bad input at the import of historical requests (crm/imports/requests.py, and its command
`import_requests`); the console's upload of the same files is in tests/onboarding.

For any file and any mapping:
- the service answers a report or raises RequestImportError, the command a report or a
  CommandError: never another exception;
- a refused import changes nothing in Laval or Lévis: no request, no timeline event, no request
  number taken from a yearly counter;
- an accepted import adds its lines in Laval only, each stored as the importer normalizes it
  (NUL characters dropped, spaces trimmed, values mapped), with one `created` event each and
  the yearly counters moved by as many numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from crm.imports.requests import RequestImportError, requests_import
from crm.models import RequestCounter, RequestEvent, ServiceRequest
from tests.bad_input import (
    DATE_LIKE,
    NUMBER_LIKE,
    bad_input_settings,
    byte_mutations,
    json_value,
    nasty_text,
    rolled_back,
    shown,
    snapshot,
)

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("America/Toronto")
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=TZ)
IMPORT_TABLES = ["laval.crm_requestcounter", "laval.crm_requestevent", "laval.crm_servicerequest"]
COLUMNS = {
    "service_code": "Type",
    "created_at": "Date",
    "status": "Statut",
    "channel": "Canal",
    "description": "Description",
    "address": "Adresse",
    "latitude": "Lat",
    "longitude": "Long",
    "external_id": "No",
}
VALID_CSV = (
    "No;Type;Date;Statut;Canal;Description;Adresse;Lat;Long\n"
    "A-1;NDP;2024-03-05 09:15;Fermé;Tél.;Trou profond;12, rue Principale;45,557;-73,721\n"
    'A-2;graffiti;2023-12-30 16:00;new;web;"Deux tags; un gros";;;\n'
).encode()
VALID_MAPPING = {
    **COLUMNS,
    "values": {
        "status": {"Fermé": "closed"},
        "channel": {"Tél.": "phone"},
        "service_code": {"NDP": "nid-de-poule"},
    },
    "date_format": "%Y-%m-%d %H:%M",
}


# --- Well-formed files of hostile cells ----------------------------------------------------------
UNKNOWN = object()  # a cell whose fate the test cannot predict: the import may take or refuse it


@dataclass(frozen=True)
class Line:
    """A data line: the cell of each mapped column, and what the import must store of it."""

    cells: dict[str, str]
    expected: dict[str, Any]


@dataclass(frozen=True)
class HistoricalFile:
    content: bytes
    mapping: dict[str, Any]
    lines: list[Line]


def _hostile() -> st.SearchStrategy[tuple[str, Any]]:
    return nasty_text().map(lambda text: (text, UNKNOWN))


def _created_at(date_format: str) -> st.SearchStrategy[tuple[str, Any]]:
    moments = st.datetimes(
        # Hypothesis takes naive bounds; `timezones` makes each drawn moment aware.
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001
        max_value=datetime(2026, 4, 30),  # noqa: DTZ001
        timezones=st.just(TZ),
        allow_imaginary=False,
    )

    def written(moment: datetime) -> tuple[str, datetime]:
        if date_format == "%d/%m/%Y":
            moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        elif date_format:
            moment = moment.replace(second=0, microsecond=0, fold=0)
        else:
            moment = moment.replace(microsecond=0)  # ISO 8601 with its offset
        text = moment.strftime(date_format) if date_format else moment.isoformat(sep=" ")
        return text, moment

    return moments.map(written)


def _coordinate(low: str, high: str) -> st.SearchStrategy[tuple[str, Any]]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=4).map(
        lambda number: (str(number).replace(".", ","), number.quantize(Decimal("0.000001")))
    )


def _free(text: str) -> tuple[str, str]:
    """A free-text cell, and the text the importer stores: NUL characters dropped, trimmed."""
    return text, text.replace("\x00", "").strip()


VALID_CELLS = {
    "service_code": [
        ("NDP", "nid-de-poule"),
        ("GRAFFITI", "graffiti"),
        ("Nid de poule", "nid-de-poule"),  # read as Open311 codes are
    ],
    "status": [("Fermé", "closed"), ("new", "new"), ("ON_HOLD", "on_hold")],
    "channel": [("Tél.", "phone"), ("WEB", "web"), ("counter", "counter")],
}


@st.composite
def _line(draw: st.DrawFn, date_format: str, number: int, clean: bool) -> Line:
    """Free text is always hostile; of the other cells, one at most unless the line is clean."""
    hostile = None
    if not clean:
        hostile = draw(st.sampled_from([*VALID_CELLS, "created_at", "external_id", "location"]))
    picks = {name: draw(st.sampled_from(cells)) for name, cells in VALID_CELLS.items()}
    picks["created_at"] = draw(_created_at(date_format))
    picks["external_id"] = _free(f"H-{number}")
    picks["latitude"] = picks["longitude"] = ("", None)
    if draw(st.booleans()):
        picks["latitude"] = draw(_coordinate("45.4", "46.9"))
        picks["longitude"] = draw(_coordinate("-74.0", "-71.0"))
    if hostile == "external_id":
        picks["external_id"] = _free(draw(nasty_text()))
    elif hostile == "location":
        picks[draw(st.sampled_from(["latitude", "longitude"]))] = draw(
            st.one_of(st.sampled_from(NUMBER_LIKE).map(lambda t: (t, UNKNOWN)), _hostile())
        )
    elif hostile == "created_at":
        picks["created_at"] = draw(
            st.one_of(st.sampled_from(DATE_LIKE).map(lambda t: (t, UNKNOWN)), _hostile())
        )
    elif hostile is not None:
        picks[hostile] = draw(_hostile())
    for name in ("description", "address"):  # long values now and then
        picks[name] = _free(draw(st.one_of(nasty_text(long=False), nasty_text())))
    return Line(
        cells={name: cell for name, (cell, _expected) in picks.items()},
        expected={name: expected for name, (_cell, expected) in picks.items()},
    )


@st.composite
def historical_files(draw: st.DrawFn) -> HistoricalFile:
    """A CSV file written by a CSV library (any delimiter, quoting and line end, UTF-8 or
    Windows-1252), its cells hostile or valid, and the mapping that describes it."""
    date_format = draw(st.sampled_from(["", "%Y-%m-%d %H:%M", "%d/%m/%Y"]))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    clean = draw(st.booleans())
    lines = [
        draw(_line(date_format, number, clean or draw(st.booleans())))
        for number in range(draw(st.integers(0, 5)))
    ]
    # Columns nobody maps, named anything but the delimiters (the header decides the delimiter
    # when the mapping does not give it).
    extra = draw(
        st.lists(nasty_text(12).filter(lambda name: not set(name) & set(',;\t|"\r\n')), max_size=2)
    )
    header = draw(st.permutations([*COLUMNS.values(), *extra]))
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
    )
    writer.writerow(header)
    field_of = {column: name for name, column in COLUMNS.items()}
    for line in lines:
        writer.writerow([line.cells.get(field_of.get(column, ""), "") for column in header])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    try:
        content = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:  # a character Windows-1252 lacks: the file is in UTF-8
        encoding = "utf-8"
        content = buffer.getvalue().encode(encoding)
    mapping: dict[str, Any] = {
        **VALID_MAPPING,
        "date_format": date_format,
        "encoding": encoding,
    }
    if draw(st.booleans()):
        mapping["delimiter"] = delimiter
    return HistoricalFile(content=content, mapping=mapping, lines=lines)


def _import(**arguments: Any) -> Any:
    """The report, or the refusal; any other exception fails the test."""
    try:
        return requests_import(actor=None, now=NOW, **arguments)
    except RequestImportError as error:
        assert error.problems, "a refusal names its problems"
        assert all(str(problem).strip() for problem in error.problems)
        return error


def test_a_well_formed_file_is_imported_exactly_as_normalized_or_refused_whole(
    import_catalog: dict,
) -> None:
    seen: Counter = Counter()

    @bad_input_settings(max_examples=60)
    @given(file=historical_files(), dry_run=st.booleans())
    def check(file: HistoricalFile, dry_run: bool) -> None:
        shown(content=file.content, mapping=file.mapping, dry_run=dry_run)
        with rolled_back():
            before = snapshot("laval", "levis")
            with schema_context("laval"):
                outcome = _import(
                    content=file.content,
                    mapping=file.mapping,
                    file_name="historique.csv",
                    dry_run=dry_run,
                )
            changed = before.changed(snapshot("laval", "levis"))
            if isinstance(outcome, RequestImportError) or dry_run:
                seen["refused" if isinstance(outcome, RequestImportError) else "checked"] += 1
                assert changed == []
                return
            seen["imported"] += 1
            kept = [line for line in file.lines if any(c.strip() for c in line.cells.values())]
            assert outcome.imported == len(kept)
            assert changed == IMPORT_TABLES
            with schema_context("laval"):
                events = sorted(
                    RequestEvent.objects.select_related("request__service_type"),
                    key=lambda event: event.data["import"]["line"],
                )
                counters = dict(RequestCounter.objects.values_list("year", "last_number"))
            assert len(events) == len(kept)
            for event, line in zip(events, kept, strict=True):
                _assert_stored_as_normalized(event, line.expected)
            assert counters == Counter(int(event.request.number[:4]) for event in events)

    check()
    # Both outcomes were reached: the property is not a refusal of everything.
    assert seen["imported"] >= 5, seen
    assert seen["refused"] >= 5, seen


def _assert_stored_as_normalized(event: RequestEvent, expected: dict[str, Any]) -> None:
    stored = event.request
    assert len(expected["description"]) <= 4000, "over 4,000 characters accepted"
    assert len(expected["address"]) <= 300, "over 300 characters accepted"
    assert expected["external_id"], "a line without its external number accepted"
    assert len(expected["external_id"]) <= 100, "an external number over 100 characters"
    actual = {
        "service_code": stored.service_type.code,
        "created_at": stored.created_at,
        "status": stored.status,
        "channel": stored.channel,
        "external_id": event.data["import"]["external_id"],
        "description": stored.description,
        "address": stored.address,
        "latitude": stored.latitude,
        "longitude": stored.longitude,
    }
    predictable = {name: value for name, value in expected.items() if value is not UNKNOWN}
    assert {name: actual[name] for name in predictable} == predictable
    assert event.created_at == stored.created_at
    assert stored.number == f"{stored.created_at.astimezone(TZ).year}-{stored.number[-6:]}"


# --- Any bytes, any mapping ----------------------------------------------------------------------
ENCODINGS = [
    "utf-8-sig",
    "cp1252",
    "latin-1",
    "utf-16",
    "ascii",
    "undefined",
    "unicode_escape",
    "raw_unicode_escape",
    "idna",
    "punycode",
    "rot13",
    "base64",
    "utf-8\x00",
    "",
    5,
    ["utf-8"],
]
DELIMITERS = ["", ";", ",", '"', "\n", "\r", "\x00", "é", ";;", " ", "\\", None, 1]
DATE_FORMATS = ["%Y-%m-%d %H:%M", "", "%", "%Q", "%Y", "%s", "%Y-%m-%d %H:%M:%S%z", "\x00", 2]


def _mappings() -> st.SearchStrategy[Any]:
    """Mappings of every shape: the valid one with its options and parts made hostile, and
    any JSON at all."""
    options = st.fixed_dictionaries(
        {
            "encoding": st.sampled_from(ENCODINGS),
            "delimiter": st.sampled_from(DELIMITERS),
            "date_format": st.sampled_from(DATE_FORMATS),
        },
        optional={
            "values": st.one_of(
                st.dictionaries(st.sampled_from(["status", "channel", "x"]), json_value()),
                json_value(),
            ),
            "defaults": st.one_of(
                st.dictionaries(
                    st.sampled_from(["status", "channel", "description"]), json_value()
                ),
                json_value(),
            ),
            "service_code": json_value(),
            "created_at": json_value(),
            "closed_at": st.one_of(st.just("Date"), json_value()),
            "sector": st.one_of(st.just("Canal"), json_value()),
        },
    )
    return st.one_of(options.map(lambda changes: {**VALID_MAPPING, **changes}), json_value())


# Cells of VALID_CSV that a hostile value may replace.
VALID_CELLS_TEXT = ["A-1", "NDP", "2024-03-05 09:15", "Fermé", "Tél.", "Trou profond", "45,557"]


def _contents() -> st.SearchStrategy[bytes]:
    swapped = st.tuples(
        st.sampled_from(VALID_CELLS_TEXT),
        st.one_of(st.sampled_from(DATE_LIKE + NUMBER_LIKE), nasty_text(), st.just("\\ud800")),
    ).map(lambda swap: VALID_CSV.decode().replace(swap[0], swap[1], 1).encode())
    return st.one_of(
        swapped,
        byte_mutations(VALID_CSV),
        st.binary(max_size=200),
        st.just(b"No;Type\n" + b"x" * 140_000 + b";NDP\n"),  # a field over csv's limit
        st.just(b'No;Type;Date\n"A-1;NDP;2024-03-05 09:15\n'),  # an unclosed quote
        st.just(VALID_CSV.replace(b"No;", b"No;No;", 1)),  # a duplicated column
        st.just(VALID_CSV.replace(b"\n", b";extra\n", 2)),  # a cell more
        st.just(VALID_CSV.decode().encode("utf-16")),
    )


def test_any_bytes_and_any_mapping_are_imported_whole_or_refused_whole(
    import_catalog: dict,
) -> None:
    seen: Counter = Counter()

    @bad_input_settings(max_examples=80)
    @given(content=_contents(), mapping=_mappings(), dry_run=st.booleans())
    def check(content: bytes, mapping: Any, dry_run: bool) -> None:
        shown(content=content, mapping=mapping, dry_run=dry_run)
        if isinstance(mapping, dict):
            seen["enc:" + str(mapping.get("encoding"))[:10]] += 1
            seen["fmt:" + str(mapping.get("date_format"))[:10]] += 1
        with rolled_back():
            before = snapshot("laval", "levis")
            with schema_context("laval"):
                outcome = _import(
                    content=content, mapping=mapping, file_name="historique.csv", dry_run=dry_run
                )
                added = list(ServiceRequest.objects.all())
                events = RequestEvent.objects.count()
                numbers = sum(RequestCounter.objects.values_list("last_number", flat=True))
            changed = before.changed(snapshot("laval", "levis"))
            if isinstance(outcome, RequestImportError) or dry_run:
                seen["refused" if isinstance(outcome, RequestImportError) else "checked"] += 1
                assert changed == []
                return
            seen["imported"] += 1
            assert changed == IMPORT_TABLES
            assert len(added) == events == numbers == outcome.imported
            with schema_context("laval"):
                for stored in added:
                    stored.full_clean()

    check()
    assert seen["imported"] >= 3, seen
    assert seen["refused"] >= 20, seen


# --- The command ---------------------------------------------------------------------------------
def _mapping_texts() -> st.SearchStrategy[str]:
    """The mapping file: JSON of any shape, JSON with a key given twice, not JSON at all."""
    return st.one_of(
        _mappings().map(json.dumps),
        st.just('{"service_code": "Type", "service_code": "No", ' + json.dumps(VALID_MAPPING)[1:]),
        nasty_text(),
        st.just("{oups"),
    )


def test_the_command_answers_a_report_or_a_command_error(
    import_catalog: dict, tmp_path: Any
) -> None:
    csv_path, mapping_path = tmp_path / "historique.csv", tmp_path / "correspondance.json"
    arguments = [str(csv_path), "--tenant", "laval", "--mapping", str(mapping_path)]
    seen: Counter = Counter()

    @bad_input_settings(max_examples=25)
    @given(content=_contents(), mapping=_mapping_texts(), dry_run=st.booleans())
    def check(content: bytes, mapping: str, dry_run: bool) -> None:
        shown(content=content, mapping=mapping, dry_run=dry_run)
        csv_path.write_bytes(content)
        mapping_path.write_text(mapping, "utf-8")
        with rolled_back():
            before = snapshot("laval", "levis")
            out, err = StringIO(), StringIO()
            try:
                call_command(
                    "import_requests",
                    *arguments,
                    *(["--dry-run"] if dry_run else []),
                    stdout=out,
                    stderr=err,
                )
            except CommandError as error:
                seen["refused"] += 1
                assert str(error).strip()
                assert before.changed(snapshot("laval", "levis")) == []
                return
            seen["imported"] += 1
            assert "requête(s)" in out.getvalue()
            assert before.changed(snapshot("laval", "levis")) in ([], IMPORT_TABLES)

    check()
    assert seen["imported"], seen
    assert seen["refused"], seen


# --- Payloads the properties found ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "changes", "message"),
    [
        # A codec that encodes nothing raised UnicodeError, one with a NUL in its name
        # ValueError: both escaped the mapping's check.
        (VALID_CSV, {"encoding": "undefined"}, "encodage inconnu « undefined »"),
        (VALID_CSV, {"encoding": "utf-8\x00"}, "encodage inconnu"),
        # idna decodes with UnicodeError, not UnicodeDecodeError: a crash, not a refusal.
        (b"xn--99999", {"encoding": "idna"}, "ne se lit pas comme un texte en idna"),
        # unicode_escape turns "\\ud800" into a lone surrogate, which PostgreSQL's UTF-8 cannot
        # hold: the insert failed after the checks.
        (
            VALID_CSV.replace(b"Trou profond", b"Trou \\ud800"),
            {"encoding": "unicode_escape"},
            "ne se lit pas comme un texte en unicode_escape",
        ),
        # Year 1 with a positive offset overflowed when moved to the town's time zone.
        (
            VALID_CSV.replace(b"2024-03-05 09:15", b"0001-01-01T00:00:00+05:00"),
            {"date_format": ""},
            "la date 0001-01-01T00:00:00+05:00 est antérieure à 1900.",
        ),
    ],
)
def test_payloads_found_by_the_properties_are_refused_and_change_nothing(
    import_catalog: dict, content: bytes, changes: dict[str, Any], message: str
) -> None:
    before = snapshot("laval", "levis")

    with schema_context("laval"), pytest.raises(RequestImportError) as refused:
        requests_import(
            actor=None,
            content=content,
            mapping={**VALID_MAPPING, **changes},
            file_name="historique.csv",
            now=NOW,
        )

    assert message in " ".join(str(problem) for problem in refused.value.problems)
    assert before.changed(snapshot("laval", "levis")) == []


def test_a_nul_in_the_file_name_is_dropped_from_the_timeline(import_catalog: dict) -> None:
    # The file name went as is into the event's message and JSON: PostgreSQL refused the NUL
    # after every line had been checked.
    with schema_context("laval"):
        report = requests_import(
            actor=None,
            content=VALID_CSV,
            mapping=VALID_MAPPING,
            file_name="histo\x00rique\x1b.csv",
            now=NOW,
        )
        event = RequestEvent.objects.order_by("id").first()

    assert report.imported == 2
    assert event is not None
    assert event.data["import"]["file"] == "historique.csv"
    assert "fichier historique.csv, ligne 2" in event.message
