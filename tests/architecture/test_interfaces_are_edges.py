"""The interfaces are edges: they parse, call one service or selector, and render.

REST, Open311, the admin and the pages (and the staff workspace and the citizen portal when they
land) hold no query (`.objects`, a model's manager), no transaction and no role rule: a second
copy of a read or a rule there is how three interfaces end up disagreeing. This walks their
syntax trees, so a new one fails here with its file and line. `import-linter` (in `make lint`)
holds the dependencies between the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTERFACES = (
    "crm/api",
    "crm/admin.py",
    "crm/admin_privacy.py",
    "crm/desk",
    "crm/portal",
)
MANAGERS = {"objects", "_default_manager", "_base_manager"}
TRANSACTIONS = {"atomic", "select_for_update", "on_commit"}


def interface_modules() -> list[Path]:
    found: list[Path] = []
    for entry in INTERFACES:
        path = ROOT / entry
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(path.rglob("*.py")))
    return found


def violations(source: str) -> list[tuple[int, str]]:
    """(line, what) for each query, transaction or role comparison in `source`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            found.append((node.lineno, f"a query through .{node.attr}: call a selector"))
        elif isinstance(node, ast.Attribute | ast.Name) and (
            getattr(node, "attr", None) in TRANSACTIONS or getattr(node, "id", None) in TRANSACTIONS
        ):
            name = getattr(node, "attr", None) or getattr(node, "id", "")
            found.append((node.lineno, f"a transaction ({name}): call a service"))
        elif isinstance(node, ast.ImportFrom) and node.module == "django.db.transaction":
            found.append((node.lineno, "a transaction import: call a service"))
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(side, ast.Attribute) and side.attr == "role" for side in sides):
                found.append((node.lineno, "a role rule: put it in crm.roles or a selector"))
    return found


def test_the_interfaces_are_found():
    modules = {path.relative_to(ROOT).as_posix() for path in interface_modules()}

    assert {"crm/api/rest/views.py", "crm/api/open311/views.py", "crm/admin.py"} <= modules


@pytest.mark.parametrize(
    "path", interface_modules(), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_an_interface_holds_no_query_transaction_or_role_rule(path):
    assert violations(path.read_text()) == []


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("Citizen.objects.filter(pk=1)", "a query through .objects: call a selector"),
        ("model._default_manager.get(pk=1)", "a query through ._default_manager: call a selector"),
        ("with transaction.atomic():\n    pass", "a transaction (atomic): call a service"),
        ("from django.db.transaction import atomic", "a transaction import: call a service"),
        ("qs.select_for_update()", "a transaction (select_for_update): call a service"),
        (
            "if viewer.role == SUPERVISOR:\n    pass",
            "a role rule: put it in crm.roles or a selector",
        ),
        ("ok = viewer.role in {AGENT}", "a role rule: put it in crm.roles or a selector"),
    ],
)
def test_the_walk_catches_each_kind_of_violation(source, what):
    assert [message for _line, message in violations(source)] == [what]


def test_reading_a_selector_and_calling_a_service_is_allowed():
    source = (
        "requests = selectors.request_list(viewer=viewer, filters=filters)\n"
        "services.request_intake(viewer=viewer, service_type=service_type)\n"
        "allowed_roles = (ADMINISTRATOR, AGENT)\n"
    )

    assert violations(source) == []
