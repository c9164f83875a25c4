"""What the bad-input property tests share (tests/*/test_bad_input_*.py): Hypothesis settings,
strategies of hostile text, files and form data, and the proof that nothing changed.

Every property runs a bounded, derandomized number of examples, so `make test` sends the same
input every time. Examples share the test's database transaction; `rolled_back()` undoes one
example's writes before the next, so each example starts from the same rows.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.test import TestCase
from hypothesis import HealthCheck, Phase, note, settings
from hypothesis import strategies as st


def bad_input_settings(max_examples: int) -> settings:
    """Derandomized, bounded, no example database on disk, no deadline (CI machines are slow);
    examples share function-scoped fixtures (a town, a signed-in client) on purpose."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        # No "explain" phase: its report needs the arguments this Hypothesis prints blank.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def shown(**values: Any) -> None:
    """Name an example's input in the failure report (this Hypothesis, under pytest, prints
    the failing arguments blank)."""
    for name, value in values.items():
        note(f"{name} = {value!r:.3000}")


# --- Hostile text --------------------------------------------------------------------------------
# Characters that have broken programs before: NUL and the other C0 and C1 controls, line and
# paragraph separators, a BOM, bidi overrides, zero-width characters, characters whose case
# mapping changes their length (İ, ß, ﬃ), the replacement character, astral planes.
NASTY_CHARACTERS = (
    "\x00\x01\x08\t\n\x0b\x0c\r\x1b\x7f\x85\xa0\u2028\u2029\ufeff\u202e\u200b\u200d\ufffd\uffff"
    "İßﬃΣ\u0301é\U0001f600\U00010000\U0010fffd ;,|\"'=+-@<>&%{}[]\\/"
)
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")']
NUMBER_LIKE = [
    "NaN",
    "sNaN",
    "-Infinity",
    "inf",
    "1e999999",
    "1e-999999",
    "1e5000",
    "-0",
    "0x1A",
    "١٢٣",
    "½",
    "1_000",
    "45,5",
    "45.5.5",
    "--1",
    "9" * 400,
    "4.5e1",
    " 46 ",
]
DATE_LIKE = [
    "0000-00-00",
    "0001-01-01",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "2024-02-30",
    "2024-13-01",
    "2024-01-01T24:00",
    "2024-01-01T00:00:00+99:00",
    "31/12/2024",
    "2024-W01-1",
    "2024-01-01",
    "2099-01-01",
]
ODD_WORDS = [
    "",
    " ",
    "\t\n",
    "null",
    "None",
    "true",
    "[]",
    "{}",
    "<b>x</b>",
    "' OR 1=1 --",
    "%s%n",
    "{0}{name}",
    "%(value)s",
    "\x00",
    "a\x00b",
    "\ufeffcourriel",
]


def long_text() -> st.SearchStrategy[str]:
    """Strings of a few hundred to a few thousand characters, cheaply."""
    return st.builds(operator.mul, st.text(min_size=1, max_size=3), st.integers(100, 3000))


def nasty_text(max_size: int = 30, *, long: bool = True) -> st.SearchStrategy[str]:
    """Text of every plane (surrogates aside: they cannot cross HTTP), control characters,
    formulas, numbers and dates that are not, format strings, empty and (unless `long` is
    false) very long values."""
    strategies = [
        st.text(max_size=max_size),
        st.text(alphabet=NASTY_CHARACTERS, max_size=max_size),
        st.sampled_from(FORMULAS + NUMBER_LIKE + DATE_LIKE + ODD_WORDS),
    ]
    return st.one_of(*strategies, long_text()) if long else st.one_of(*strategies)


def mostly(usual: st.SearchStrategy[Any], *rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` three times in four, else one of `rare` (st.one_of would draw each branch
    alike, and repeating a branch does not weigh it)."""
    return st.integers(0, 3).flatmap(lambda n: usual if n < 3 else st.one_of(*rare))


def form_value(max_size: int = 30) -> st.SearchStrategy[str | list[str]]:
    """A posted value: one text, or the same key sent several times."""
    return st.one_of(nasty_text(max_size), st.lists(nasty_text(max_size), min_size=2, max_size=3))


def form_data(
    fields: dict[str, st.SearchStrategy[Any]], *, extra: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """POST data: each field usually drawn from its own strategy, sometimes missing or any
    hostile value, plus, sometimes, keys nobody expects."""
    present = {name: mostly(strategy, st.none(), form_value()) for name, strategy in fields.items()}
    extras = (
        st.dictionaries(nasty_text(12, long=False).filter(bool), form_value(), max_size=2)
        if extra
        else st.just({})
    )
    return st.builds(
        lambda chosen, more: {
            **more,
            **{name: value for name, value in chosen.items() if value is not None},
        },
        st.fixed_dictionaries(present),
        extras,
    )


# --- Files ---------------------------------------------------------------------------------------
def json_value() -> st.SearchStrategy[Any]:
    """Any JSON document: scalars of every kind, nested lists and objects."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        nasty_text(),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(nasty_text(10), children, max_size=4),
        ),
        max_leaves=12,
    )


def byte_mutations(content: bytes) -> st.SearchStrategy[bytes]:
    """A file spoiled the ways files get spoiled: a BOM, Latin-1 bytes in UTF-8, cut short,
    bytes inserted anywhere, NULs, Windows or old Mac line ends."""
    size = len(content)
    return st.one_of(
        st.just(content),
        st.just(b"\xef\xbb\xbf" + content),
        st.just(b"\xff\xfe" + content),
        st.integers(0, size).map(lambda cut: content[:cut]),
        st.tuples(st.integers(0, size), st.binary(min_size=1, max_size=8)).map(
            lambda spot: content[: spot[0]] + spot[1] + content[spot[0] :]
        ),
        st.just(content.replace(b"\n", b"\r\n")),
        st.just(content.replace(b"\n", b"\r")),
        st.just(content + "Numéro;Ligne en Latin-1\n".encode("latin-1")),
        st.just(content.replace(b",", b"\x00")),
    )


# --- Nothing changed -----------------------------------------------------------------------------
# Sign-ins write sessions; nothing else may change without a reason.
ALWAYS_SKIPPED = frozenset({"django_session"})


@dataclass(frozen=True)
class Snapshot:
    """A digest of every row of every table of some schemas, and the e-mails sent so far."""

    tables: dict[str, str]
    emails: int

    def changed(self, later: Snapshot) -> list[str]:
        """The tables (schema.table) whose rows differ in `later`."""
        return sorted(
            name
            for name in self.tables.keys() | later.tables.keys()
            if self.tables.get(name) != later.tables.get(name)
        )


def snapshot(*schemas: str, skip: frozenset[str] = frozenset()) -> Snapshot:
    """Every row counts: an insert, an update or a delete anywhere in these schemas shows,
    and so does a request number taken from a yearly counter."""
    digests: dict[str, str] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                [schema],
            )
            tables = [name for (name,) in cursor.fetchall() if name not in ALWAYS_SKIPPED | skip]
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f"FROM {quote(schema)}.{quote(table)} t"
                    for table in tables
                ),
                [f"{schema}.{table}" for table in tables],
            )
            digests.update(dict(cursor.fetchall()))
    return Snapshot(tables=digests, emails=len(mail.outbox))


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example: a fresh cache (throttles, rate limits) and an empty outbox; its writes are
    undone when it ends. E-mails queued for after the commit are sent at the end of the
    example's own transaction, so `mail.outbox` shows what a real commit would have sent."""
    cache.clear()
    mail.outbox.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@contextmanager
def committed() -> Iterator[None]:
    """Run the after-commit callbacks (e-mails) queued inside the block, as a commit would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
