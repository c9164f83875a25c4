"""Import of historical requests from a CSV file exported by a town's former system.

The operator describes the file with a *mapping* (JSON): which CSV column holds each Relais
field, how the old system's values translate (statuses, channels, type codes…), constants for
fields the file lacks, and how dates, delimiter and encoding are written::

    {
      "service_code": "Type", "created_at": "Date", "status": "Statut", "channel": "Canal",
      "description": "Description", "address": "Adresse", "latitude": "Lat",
      "longitude": "Long", "external_id": "No", "closed_at": "Fermeture",
      "values": {"status": {"Ouvert": "new", "Fermé": "closed"}, "channel": {"Tél.": "phone"}},
      "defaults": {"channel": "phone"},
      "date_format": "%Y-%m-%d %H:%M", "delimiter": ";", "encoding": "cp1252"
    }

Every line is validated before anything is written; one error anywhere and nothing is
imported (`RequestImportError` lists every problem with its line and column). Requests keep
their original dates and get the yearly numbers the town's counter would have given them: each
year's counter is advanced by the number of requests imported into it, in one statement, so
later requests never collide. Each request gets one internal `created` timeline event holding
the import's provenance (file, checksum, line, external number). That provenance is also the
idempotency key, with no schema change: a line whose external number was already imported is
skipped, and a file without an external-number column is refused when its checksum was.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from crm import selectors
from crm.errors import CrmError, CrmErrorCode
from crm.imports.csv import (
    first_line,
    guess_delimiter,
)
from crm.imports.open311_services import relais_code
from crm.location import Axis, coordinate_parse
from crm.models import (
    OPEN_STATUSES,
    Channel,
    Department,
    EventKind,
    Priority,
    RequestEvent,
    RequestStatus,
    RoutingRule,
    Sector,
    ServiceRequest,
    ServiceType,
    Visibility,
)
from crm.numbering import request_number, request_numbers_peek, request_numbers_reserve
from crm.services.requests import DESCRIPTION_MAX
from crm.sla import sla_deadlines
from tenants.accounts.models import User

S = RequestStatus

FIELDS = (
    "service_code",
    "created_at",
    "status",
    "channel",
    "priority",
    "description",
    "address",
    "latitude",
    "longitude",
    "sector",
    "department",
    "external_id",
    "resolved_at",
    "closed_at",
)
# Needed on every line: from a column, or from "defaults" for the last two.
REQUIRED_FIELDS = ("service_code", "created_at", "status", "channel")
# Fields whose values may be translated ("values") or given as a constant ("defaults").
CODED_FIELDS = ("service_code", "status", "channel", "priority", "sector", "department")
OPTIONS = ("values", "defaults", "date_format", "delimiter", "encoding")
ADDRESS_MAX = 300
EXTERNAL_ID_MAX = 100
BATCH_SIZE = 2000
# Request numbers carry a four-digit year, and no town kept requests before this one.
EARLIEST_DATE = datetime(1900, 1, 1, tzinfo=UTC)
# "Duplicate" needs the request it duplicates, which a flat file cannot give.
IMPORTABLE_STATUSES = tuple(value for value in S.values if value != S.DUPLICATE)


@dataclass(frozen=True)
class ImportProblem:
    """One reason to refuse the import. `line` is None for the mapping or the file as a whole."""

    message: str
    line: int | None = None
    column: str = ""

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        if self.column:
            return _("Ligne {line}, colonne « {column} » : {message}").format(
                line=self.line, column=self.column, message=self.message
            )
        return _("Ligne {line} : {message}").format(line=self.line, message=self.message)


class RequestImportError(CrmError):
    """The import was refused and nothing was written; `problems` says why, line by line."""

    def __init__(self, code: str, problems: list[ImportProblem]) -> None:
        super().__init__(
            code,
            _("{count} erreur(s) : aucune requête n'a été importée.").format(count=len(problems)),
        )
        self.problems = problems


@dataclass(frozen=True)
class RequestMapping:
    columns: dict[str, str]  # Relais field → CSV column
    values: dict[str, dict[str, str]]  # Relais field → casefolded old value → Relais value
    defaults: dict[str, str]  # Relais field → Relais value when the cell is absent or blank
    date_format: str = ""  # strptime format; ISO 8601 when empty
    delimiter: str = ""  # detected from the header when empty
    encoding: str = "utf-8-sig"


@dataclass(frozen=True)
class YearBlock:
    year: int
    count: int
    first_number: str
    last_number: str


@dataclass
class RequestsImportReport:
    imported: int = 0
    skipped: list[str] = field(default_factory=list)  # external numbers already imported
    years: list[YearBlock] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    sha256: str = ""
    dry_run: bool = False


@dataclass
class _Row:
    line: int
    service_type: ServiceType
    created_at: datetime
    status: str
    channel: str
    priority: str
    description: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    sector_id: int | None
    department_id: int
    external_id: str
    resolved_at: datetime | None
    closed_at: datetime | None


# --- Reference data, read once -------------------------------------------------------------------
@dataclass
class _Lookups:
    service_types: dict[str, ServiceType]
    sectors: dict[str, Sector]
    departments: dict[str, Department]
    rules: dict[tuple[int, int | None], int]  # (sector, type or None) → department
    # Per coded field, the Relais values it accepts, keyed by their casefolded form.
    allowed: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        codes: dict[str, Mapping[str, object]] = {
            "service_code": self.service_types,
            "sector": self.sectors,
            "department": self.departments,
        }
        self.allowed = {
            "status": {value: value for value in IMPORTABLE_STATUSES},
            "channel": {value: value for value in Channel.values},
            "priority": {value: value for value in Priority.values},
        } | {name: {code.casefold(): code for code in table} for name, table in codes.items()}

    @classmethod
    def load(cls) -> _Lookups:
        return cls(
            # Inactive types too: history may hold types the town no longer offers.
            service_types={t.code: t for t in ServiceType.objects.all()},
            sectors={s.code: s for s in Sector.objects.all()},
            departments={d.code: d for d in Department.objects.all()},
            rules={
                (rule.sector_id, rule.service_type_id): rule.department_id
                for rule in RoutingRule.objects.all()
            },
        )

    def department_for(self, service_type: ServiceType, sector: Sector | None) -> int:
        """As `selectors.routed_department`: the rule for (sector, type), then (sector, any)."""
        if sector is not None:
            for key in ((sector.pk, service_type.pk), (sector.pk, None)):
                if key in self.rules:
                    return self.rules[key]
        return service_type.department_id


# --- The mapping ---------------------------------------------------------------------------------
def _unknown_value_message(field_name: str, value: str, lookups: _Lookups) -> str:
    if field_name in {"status", "channel", "priority"}:
        accepted = ", ".join(sorted(lookups.allowed[field_name].values()))
        return _("« {value} » n'est pas une valeur de « {field} » ({accepted}).").format(
            value=value, field=field_name, accepted=accepted
        )
    if field_name == "service_code":
        return _("Le type de requête « {value} » n'existe pas dans le catalogue.").format(
            value=value
        )
    if field_name == "sector":
        return _("Le secteur « {value} » n'existe pas.").format(value=value)
    return _("Le service municipal « {value} » n'existe pas.").format(value=value)


def _resolve(field_name: str, raw: str, mapping: RequestMapping, lookups: _Lookups) -> str | None:
    """The Relais value of a coded field's cell: translated by the mapping, else taken as is
    (for type codes, also as `import_open311_services` converts them). None when unknown."""
    translated = mapping.values.get(field_name, {}).get(raw.strip().casefold())
    candidate = translated if translated is not None else raw.strip()
    allowed = lookups.allowed[field_name]
    found = allowed.get(candidate.casefold())
    if found is None and field_name == "service_code":
        found = allowed.get(relais_code(candidate))
    return found


def mapping_parse(raw: object, lookups: _Lookups) -> tuple[RequestMapping, list[ImportProblem]]:
    """Read and check a mapping; every problem is returned, none raised."""
    problems: list[ImportProblem] = []
    if not isinstance(raw, Mapping):
        return RequestMapping({}, {}, {}), [
            ImportProblem(_("La correspondance doit être un objet JSON {…}."))
        ]
    columns: dict[str, str] = {}
    for key, value in raw.items():
        if key in OPTIONS:
            continue
        if key not in FIELDS:
            problems.append(
                ImportProblem(
                    _(
                        "Correspondance : champ Relais inconnu « {field} » (champs : {known})."
                    ).format(field=key, known=", ".join(FIELDS))
                )
            )
        elif not isinstance(value, str) or not value.strip():
            problems.append(
                ImportProblem(
                    _("Correspondance : « {field} » doit donner un nom de colonne.").format(
                        field=key
                    )
                )
            )
        else:
            columns[key] = value.strip()

    def option_dict(name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            problems.append(
                ImportProblem(
                    _("Correspondance : « {option} » doit être un objet JSON.").format(option=name)
                )
            )
            return {}
        return dict(value)

    defaults: dict[str, str] = {}
    for field_name, value in option_dict("defaults").items():
        if field_name not in CODED_FIELDS:
            problems.append(
                ImportProblem(
                    _(
                        "Correspondance : « defaults » n'accepte que {fields} (pas « {field} »)."
                    ).format(fields=", ".join(CODED_FIELDS), field=field_name)
                )
            )
            continue
        resolved = _resolve(field_name, str(value), RequestMapping({}, {}, {}), lookups)
        if resolved is None:
            problems.append(
                ImportProblem(
                    _("Correspondance, « defaults » : {message}").format(
                        message=_unknown_value_message(field_name, str(value), lookups)
                    )
                )
            )
        else:
            defaults[field_name] = resolved

    values: dict[str, dict[str, str]] = {}
    for field_name, table in option_dict("values").items():
        if field_name not in CODED_FIELDS:
            problems.append(
                ImportProblem(
                    _(
                        "Correspondance : « values » n'accepte que {fields} (pas « {field} »)."
                    ).format(fields=", ".join(CODED_FIELDS), field=field_name)
                )
            )
            continue
        if not isinstance(table, Mapping):
            problems.append(
                ImportProblem(
                    _(
                        "Correspondance : « values.{field} » doit associer les anciennes valeurs "
                        "aux valeurs Relais."
                    ).format(field=field_name)
                )
            )
            continue
        values[field_name] = {}
        for old, new in table.items():
            resolved = _resolve(field_name, str(new), RequestMapping({}, {}, {}), lookups)
            if resolved is None:
                problems.append(
                    ImportProblem(
                        _("Correspondance, « values.{field} », « {old} » : {message}").format(
                            field=field_name,
                            old=old,
                            message=_unknown_value_message(field_name, str(new), lookups),
                        )
                    )
                )
            else:
                values[field_name][str(old).strip().casefold()] = resolved

    given = raw.get("defaults")
    given_defaults = given if isinstance(given, Mapping) else {}
    for field_name in REQUIRED_FIELDS:
        # An invalid default was reported above: no second message for the same field.
        if field_name not in columns and field_name not in given_defaults:
            problems.append(
                ImportProblem(
                    _(
                        "Correspondance : le champ obligatoire « {field} » n'est associé à aucune "
                        "colonne{hint}."
                    ).format(
                        field=field_name,
                        hint=_(" ni à une valeur par défaut (« defaults »)")
                        if field_name in CODED_FIELDS
                        else "",
                    )
                )
            )

    options: dict[str, str] = {}
    for name, default in (("date_format", ""), ("delimiter", ""), ("encoding", "utf-8-sig")):
        value = raw.get(name, default)
        if not isinstance(value, str):
            problems.append(
                ImportProblem(
                    _("Correspondance : « {option} » doit être un texte.").format(option=name)
                )
            )
            value = default
        options[name] = value
    if options["delimiter"] and len(options["delimiter"]) != 1:
        problems.append(
            ImportProblem(_("Correspondance : « delimiter » doit être un seul caractère."))
        )
    try:
        "".encode(options["encoding"])
    except (LookupError, UnicodeError, ValueError):  # unknown, unusable ("undefined"), NUL
        problems.append(
            ImportProblem(
                _("Correspondance : encodage inconnu « {encoding} ».").format(
                    encoding=options["encoding"]
                )
            )
        )
    mapping = RequestMapping(
        columns=columns,
        values=values,
        defaults=defaults,
        date_format=options["date_format"],
        delimiter=options["delimiter"],
        encoding=options["encoding"],
    )
    return mapping, problems


# --- The file ------------------------------------------------------------------------------------
def _decode(content: bytes, encoding: str) -> str:
    """The file's text. Raises RequestImportError when it is not in `encoding`, or when that
    codec yields what no text holds (lone surrogates, from the escape codecs)."""
    try:
        text = content.decode(encoding)
        text.encode("utf-8")
    except UnicodeError as error:  # idna and punycode raise the base class
        position = getattr(error, "start", None)
        if isinstance(error, UnicodeDecodeError) and position is not None:
            message = _(
                "Le fichier n'est pas encodé en {encoding} (octet {position}) : précisez "
                'son encodage dans la correspondance, p. ex. "encoding": "cp1252".'
            ).format(encoding=encoding, position=position)
        else:
            message = _(
                "Le fichier ne se lit pas comme un texte en {encoding} : précisez son encodage "
                'dans la correspondance, p. ex. "encoding": "cp1252".'
            ).format(encoding=encoding)
        raise RequestImportError(CrmErrorCode.UNREADABLE_FILE, [ImportProblem(message)]) from error
    return text


def _delimiter(text: str, chosen: str) -> str:
    return chosen or guess_delimiter(first_line(text))


def _moment(raw: str, date_format: str, tz: ZoneInfo) -> datetime | None:
    """An aware datetime; a date alone is midnight and a naive time is the town's local time."""
    value = raw.strip()
    moment: datetime | None
    try:
        if date_format:
            # The format may carry its own zone (%z); a naive time is the town's, below.
            moment = datetime.strptime(value, date_format)  # noqa: DTZ007
        else:
            moment = parse_datetime(value)
            if moment is None:
                day = parse_date(value)
                moment = datetime.combine(day, time(0)) if day is not None else None
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=tz) if timezone.is_naive(moment) else moment


class _LineChecker:
    """Turns one CSV record into a `_Row`, collecting every problem of the line."""

    def __init__(
        self,
        *,
        mapping: RequestMapping,
        lookups: _Lookups,
        index: dict[str, int],
        tz: ZoneInfo,
        now: datetime,
    ) -> None:
        self.mapping = mapping
        self.lookups = lookups
        self.index = index
        self.tz = tz
        self.now = now

    def check(self, line: int, cells: list[str], problems: list[ImportProblem]) -> _Row | None:
        found: list[ImportProblem] = []

        def cell(field_name: str) -> tuple[str, str]:
            """The cell's text and the name to report it under (the column, or "defaults")."""
            column = self.mapping.columns.get(field_name)
            text = cells[self.index[column]].replace("\x00", "").strip() if column else ""
            if not text and field_name in self.mapping.defaults:
                return self.mapping.defaults[field_name], column or "defaults"
            return text, column or ""

        def problem(column: str, message: str) -> None:
            found.append(ImportProblem(message, line=line, column=column))

        def coded(field_name: str, required: bool) -> str | None:
            text, column = cell(field_name)
            if not text:
                if required:
                    problem(column, _("valeur obligatoire manquante."))
                return None
            if column == "defaults":
                return text  # checked with the mapping
            value = _resolve(field_name, text, self.mapping, self.lookups)
            if value is None:
                problem(column, _unknown_value_message(field_name, text, self.lookups))
            return value

        def moment(field_name: str, required: bool) -> datetime | None:
            text, column = cell(field_name)
            if not text:
                if required:
                    problem(column, _("date obligatoire manquante."))
                return None
            value = _moment(text, self.mapping.date_format, self.tz)
            if value is None:
                problem(
                    column,
                    _("date illisible « {value} » (format attendu : {format}).").format(
                        value=text,
                        format=self.mapping.date_format or _("ISO 8601, p. ex. 2024-03-15 14:30"),
                    ),
                )
            elif value > self.now:
                problem(column, _("la date {value} est dans le futur.").format(value=text))
            elif value < EARLIEST_DATE:
                problem(
                    column,
                    _("la date {value} est antérieure à {year}.").format(
                        value=text, year=EARLIEST_DATE.year
                    ),
                )
            return value

        code = coded("service_code", True)
        service_type = self.lookups.service_types.get(code) if code else None
        status = coded("status", True)
        channel = coded("channel", True)
        priority = coded("priority", False)
        sector_code = coded("sector", False)
        department_code = coded("department", False)
        created_at = moment("created_at", True)
        resolved_at = moment("resolved_at", False)
        closed_at = moment("closed_at", False)

        description, column = cell("description")
        if len(description) > DESCRIPTION_MAX:
            problem(
                column,
                _("la description dépasse {limit} caractères.").format(limit=DESCRIPTION_MAX),
            )
        address, column = cell("address")
        if len(address) > ADDRESS_MAX:
            problem(column, _("l'adresse dépasse {limit} caractères.").format(limit=ADDRESS_MAX))
        external_id, column = cell("external_id")
        if len(external_id) > EXTERNAL_ID_MAX:
            problem(
                column,
                _("le numéro externe dépasse {limit} caractères.").format(limit=EXTERNAL_ID_MAX),
            )
        elif "external_id" in self.mapping.columns and not external_id:
            problem(column, _("numéro externe manquant."))

        latitude = longitude = None
        raw_latitude, latitude_column = cell("latitude")
        raw_longitude, longitude_column = cell("longitude")
        if raw_latitude or raw_longitude:
            if not (raw_latitude and raw_longitude):
                problem(
                    latitude_column if not raw_latitude else longitude_column,
                    _("donnez la latitude et la longitude, ou ni l'une ni l'autre."),
                )
            else:
                axes: tuple[tuple[str, Axis, str], ...] = (
                    (raw_latitude, "latitude", latitude_column),
                    (raw_longitude, "longitude", longitude_column),
                )
                for raw, name, column in axes:
                    try:
                        value = coordinate_parse(raw, field=name)
                    except CrmError as error:
                        problem(column, error.message)
                    else:
                        if name == "latitude":
                            latitude = value
                        else:
                            longitude = value

        if status is not None:
            status_column = self.mapping.columns.get("status", "defaults")
            if status in OPEN_STATUSES and (closed_at or resolved_at):
                problem(
                    status_column,
                    _(
                        "une requête encore ouverte ({status}) ne peut pas avoir de date de "
                        "résolution ou de fermeture."
                    ).format(status=status),
                )
        if created_at is not None:
            for ended, field_name in ((resolved_at, "resolved_at"), (closed_at, "closed_at")):
                if ended is not None and ended < created_at:
                    problem(
                        self.mapping.columns[field_name],
                        _("cette date précède la date de création de la requête."),
                    )

        problems.extend(found)
        if found or service_type is None or status is None or channel is None:
            return None
        if created_at is None:
            return None
        sector = self.lookups.sectors.get(sector_code) if sector_code else None
        if department_code:
            department_id = self.lookups.departments[department_code].pk
        else:
            department_id = self.lookups.department_for(service_type, sector)
        if status in {S.RESOLVED, S.CLOSED} and resolved_at is None:
            resolved_at = closed_at
        return _Row(
            line=line,
            service_type=service_type,
            created_at=created_at,
            status=status,
            channel=channel,
            priority=priority or service_type.default_priority,
            description=description,
            address=address,
            latitude=latitude,
            longitude=longitude,
            sector_id=sector.pk if sector else None,
            department_id=department_id,
            external_id=external_id,
            resolved_at=resolved_at if status in {S.RESOLVED, S.CLOSED} else None,
            closed_at=closed_at if status in {S.CLOSED, S.CANCELLED} else None,
        )


def _read(
    text: str, mapping: RequestMapping, *, lookups: _Lookups, tz: ZoneInfo, now: datetime
) -> tuple[list[_Row], list[str], list[ImportProblem]]:
    """Every line checked: the rows, the ignored columns and the problems found."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text, mapping.delimiter)
    )
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return [], [], [ImportProblem(_("Le fichier est vide."))]
    except csv.Error as error:
        return [], [], [ImportProblem(_("En-tête illisible : {error}.").format(error=error))]
    problems: list[ImportProblem] = []
    for field_name, column in mapping.columns.items():
        if column not in header:
            problems.append(
                ImportProblem(
                    _(
                        "Correspondance : la colonne « {column} » (champ « {field} ») est absente "
                        "de l'en-tête du fichier (colonnes : {header})."
                    ).format(column=column, field=field_name, header=", ".join(header))
                )
            )
        elif header.count(column) > 1:
            problems.append(
                ImportProblem(
                    _("L'en-tête contient plusieurs colonnes « {column} ».").format(column=column)
                )
            )
    if problems:
        return [], [], problems
    index = {name: position for position, name in enumerate(header)}
    used = set(mapping.columns.values())
    ignored = [name for name in header if name and name not in used]
    checker = _LineChecker(mapping=mapping, lookups=lookups, index=index, tz=tz, now=now)
    rows: list[_Row] = []
    seen_external: dict[str, int] = {}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(
                ImportProblem(_("ligne illisible : {error}.").format(error=error), line=start)
            )
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, often at the end of a spreadsheet export
        if len(cells) != len(header):
            problems.append(
                ImportProblem(
                    _(
                        "la ligne compte {count} cellule(s) au lieu de {expected} (un séparateur "
                        "ou un guillemet non protégé ?)."
                    ).format(count=len(cells), expected=len(header)),
                    line=start,
                )
            )
            continue
        row = checker.check(start, cells, problems)
        if row is None:
            continue
        first = seen_external.setdefault(row.external_id, start) if row.external_id else start
        if first != start:
            problems.append(
                ImportProblem(
                    _("le numéro externe « {id} » figure déjà à la ligne {first}.").format(
                        id=row.external_id, first=first
                    ),
                    line=start,
                    column=mapping.columns["external_id"],
                )
            )
            continue
        rows.append(row)
    if not rows and not problems:
        problems.append(ImportProblem(_("Le fichier ne contient aucune ligne de données.")))
    return rows, ignored, problems


# --- Writing -------------------------------------------------------------------------------------
def _imported_external_ids() -> set[str]:
    return {
        str(value)
        for value in RequestEvent.objects.filter(
            kind=EventKind.CREATED, data__has_key="import"
        ).values_list("data__import__external_id", flat=True)
        if value
    }


def _file_already_imported(sha256: str) -> bool:
    return RequestEvent.objects.filter(kind=EventKind.CREATED, data__import__sha256=sha256).exists()


def requests_import(
    *,
    actor: User | None,
    content: bytes,
    mapping: object,
    file_name: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RequestsImportReport:
    """Validate a CSV of historical requests and, unless `dry_run`, import it all at once.

    Raises RequestImportError (nothing written) listing every problem: of the mapping, of the
    header, or of each line (line number as a spreadsheet shows it, column, reason); also when
    a file without an external-number column was already imported.
    """
    now = now or timezone.now()
    sha256 = hashlib.sha256(content).hexdigest()
    # Shown in the timeline and kept in its JSON: printable characters only, as Django keeps
    # of an uploaded file's name (PostgreSQL refuses NUL in both).
    file_name = "".join(character for character in file_name if character.isprintable())
    with transaction.atomic():
        # One import at a time per town: the idempotency check and the writes stay consistent.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.requests_import'))"
            )
        lookups = _Lookups.load()
        parsed, problems = mapping_parse(mapping, lookups)
        if problems:
            raise RequestImportError(CrmErrorCode.INVALID_MAPPING, problems)
        calendar = selectors.working_calendar()
        text = _decode(content, parsed.encoding)
        rows, ignored, problems = _read(text, parsed, lookups=lookups, tz=calendar.tz, now=now)
        if problems:
            raise RequestImportError(CrmErrorCode.INVALID_FILE, problems)
        report = RequestsImportReport(ignored_columns=ignored, sha256=sha256, dry_run=dry_run)
        if "external_id" in parsed.columns:
            known = _imported_external_ids()
            report.skipped = [row.external_id for row in rows if row.external_id in known]
            rows = [row for row in rows if row.external_id not in known]
        elif _file_already_imported(sha256):
            raise RequestImportError(
                CrmErrorCode.ALREADY_IMPORTED,
                [
                    ImportProblem(
                        _(
                            "Ce fichier a déjà été importé (empreinte {sha256}). Sans colonne de "
                            "numéro externe (« external_id »), un nouvel import le dupliquerait."
                        ).format(sha256=sha256[:12])
                    )
                ],
            )
        report.imported = len(rows)

        by_year: dict[int, list[_Row]] = defaultdict(list)
        for row in rows:
            by_year[row.created_at.astimezone(calendar.tz).year].append(row)
        numbers: dict[int, str] = {}
        for year in sorted(by_year):
            year_rows = sorted(by_year[year], key=lambda r: (r.created_at, r.line))
            if dry_run:
                first = request_numbers_peek(year=year)
            else:
                first = request_numbers_reserve(year=year, count=len(year_rows))
            for offset, row in enumerate(year_rows):
                numbers[row.line] = request_number(year, first + offset)
            report.years.append(
                YearBlock(
                    year=year,
                    count=len(year_rows),
                    first_number=request_number(year, first),
                    last_number=request_number(year, first + len(year_rows) - 1),
                )
            )
        if dry_run or not rows:
            return report

        warning_ratio = selectors.crm_settings().sla_warning_ratio
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            requests = []
            for row in batch:
                # As intake does, for a request still open.
                due, warn = (
                    sla_deadlines(
                        service_type=row.service_type,
                        start=row.created_at,
                        calendar=calendar,
                        warning_ratio=warning_ratio,
                    )
                    if row.status in OPEN_STATUSES
                    else (None, None)
                )
                requests.append(
                    ServiceRequest(
                        number=numbers[row.line],
                        service_type=row.service_type,
                        kind=row.service_type.kind,
                        status=row.status,
                        priority=row.priority,
                        description=row.description,
                        address=row.address,
                        latitude=row.latitude,
                        longitude=row.longitude,
                        sector_id=row.sector_id,
                        channel=row.channel,
                        department_id=row.department_id,
                        sla_due_at=due,
                        sla_warn_at=warn,
                        sla_paused_at=now if row.status == S.ON_HOLD else None,
                        created_at=row.created_at,
                        resolved_at=row.resolved_at,
                        closed_at=row.closed_at,
                    )
                )
            ServiceRequest.objects.bulk_create(requests)
            RequestEvent.objects.bulk_create(
                [
                    RequestEvent(
                        request=service_request,
                        kind=EventKind.CREATED,
                        visibility=Visibility.INTERNAL,
                        actor=actor if actor is not None and actor.is_authenticated else None,
                        to_status=row.status,
                        message=_(
                            "Requête importée de l'ancien système ({reference}fichier {file}, "
                            "ligne {line})."
                        ).format(
                            reference=_("n° {id}, ").format(id=row.external_id)
                            if row.external_id
                            else "",
                            file=file_name,
                            line=row.line,
                        ),
                        data={
                            "import": {
                                "file": file_name,
                                "sha256": sha256,
                                "line": row.line,
                                "external_id": row.external_id or None,
                                "imported_at": now.isoformat(),
                            },
                            "channel": row.channel,
                        },
                        created_at=row.created_at,
                    )
                    for row, service_request in zip(batch, requests, strict=True)
                ]
            )
    return report
