"""The configuration reference in docs/operations.md lists every environment variable the code
reads: a variable added without its line there fails this test, and so does a line left for a
variable nothing reads any more. The code is read as Python (calls of `env_str`, `env_int`,
`env_bool`, `env_list`, `os.environ.get`, `os.environ[…]` and `os.getenv` with a literal
name), so a call written over several lines counts too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "operations.md"
# What the product reads: its packages, the deployment's Python files, manage.py. The tests
# and the benches have variables of their own, and so do the test settings.
SOURCES = ("shared_config", "tenants", "crm", "onboarding", "billing", "deploy", "manage.py")
NOT_PRODUCT = {ROOT / "shared_config" / "settings_test.py"}
READERS = {"env_str", "env_int", "env_bool", "env_list"}


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def variables_read(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call) and node.args:
            function = node.func
            reader = isinstance(function, ast.Name) and function.id in READERS
            environ_get = isinstance(function, ast.Attribute) and (
                (function.attr == "get" and _is_os_environ(function.value))
                or (
                    function.attr == "getenv"
                    and isinstance(function.value, ast.Name)
                    and function.value.id == "os"
                )
            )
            if reader or environ_get:
                name = _literal(node.args[0])
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and _is_os_environ(node.value)
        ):
            name = _literal(node.slice)
        if name:
            found.add(name)
    return found


def listed_variables(reference: str) -> set[str]:
    """The names in the first cell of each row of the reference's tables (a row may name
    several: "`SENTRY_DSN`, `SENTRY_ENVIRONMENT`")."""
    names: set[str] = set()
    for line in reference.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def _product_files() -> list[Path]:
    files: list[Path] = []
    for source in SOURCES:
        path = ROOT / source
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [file for file in files if file not in NOT_PRODUCT and "migrations" not in file.parts]


def test_every_variable_the_code_reads_is_in_the_reference_and_no_other():
    read = set().union(*(variables_read(ast.parse(f.read_text())) for f in _product_files()))
    listed = listed_variables(REFERENCE.read_text())

    assert sorted(read - listed) == [], "read by the code, missing from docs/operations.md"
    assert sorted(listed - read) == [], "in docs/operations.md, read by nothing"


def test_the_reader_finds_calls_over_several_lines_and_each_form():
    source = """
import os
A = env_int(
    "RELAIS_A", 1
)
B = os.environ.get("RELAIS_B")
C = os.environ["RELAIS_C"]
D = os.getenv("RELAIS_D", "")
os.environ["RELAIS_WRITTEN"] = "1"
E = settings_dict["PORT"]
"""
    assert variables_read(ast.parse(source)) == {"RELAIS_A", "RELAIS_B", "RELAIS_C", "RELAIS_D"}
