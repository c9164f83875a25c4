from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def test_french_is_the_default_whatever_the_browser_asks(client_for, laval):
    response = client_for(laval).get("/", HTTP_ACCEPT_LANGUAGE="en-CA,en;q=0.9")

    assert '<html lang="fr">' in response.text
    assert "Bienvenue à Laval" in response.text


def test_english_lives_under_en(client_for, laval):
    response = client_for(laval).get("/en/")

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Welcome to Laval" in response.text
    assert "Skip to main content" in response.text
    assert "Privacy officer: Julie Responsable" in response.text


def test_the_language_switcher_points_to_the_same_page_in_the_other_language(
    client_for, platform_client, laval
):
    french = client_for(laval).get("/").text
    english = client_for(laval).get("/en/").text
    platform_english = platform_client.get("/en/").text

    assert '<a href="/en/" hreflang="en" lang="en">English</a>' in french
    assert '<a href="/" hreflang="fr" lang="fr">Français</a>' in english
    assert "Relais, the citizen request platform" in platform_english


def _unquote(line: str) -> str:
    return line.strip()[1:-1].replace('\\"', '"').replace("\\n", "\n")


def _catalogue(po_file: Path) -> dict[str, str]:
    """msgid → msgstr (first form for plurals) of a .po file, header excluded. An entry with a
    context is keyed `context\x04msgid`, as the compiled catalogue stores it (pgettext)."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    context = ""
    target: str | None = None
    for line in [*po_file.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgctxt "):
            context = _unquote(line[8:]) + "\x04"
        elif line.startswith("msgid "):
            msgid, msgstr, target = context + _unquote(line[6:]), "", "id"
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            msgstr, target = _unquote(line.split(" ", 1)[1]), "str"
        elif line.startswith(("msgid_plural", "msgstr[")):
            target = None
        elif line.startswith('"') and target == "id":
            msgid = (msgid or "") + _unquote(line)
        elif line.startswith('"') and target == "str":
            msgstr = (msgstr or "") + _unquote(line)
        elif not line.strip():
            if msgid:
                entries[msgid] = msgstr or ""
            msgid = msgstr = target = None
            context = ""
    return entries


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_catalogues_are_current_complete_and_compiled(tmp_path):
    """makemessages on a copy of the sources finds exactly the committed msgids."""
    copy = tmp_path / "src"
    shutil.copytree(
        PROJECT,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".data", ".git", "staticfiles", "*.pyc", "bench"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=copy,
        env={
            "DJANGO_SETTINGS_MODULE": "shared_config.settings_test",
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": "postgres://relais@127.0.0.1:1/unused",
        },
        check=True,
        capture_output=True,
    )
    committed = _catalogue(PROJECT / "locale/en/LC_MESSAGES/django.po")
    regenerated = _catalogue(copy / "locale/en/LC_MESSAGES/django.po")
    assert set(regenerated) == set(committed), "catalogue out of date: run `make messages`"

    untranslated = [msgid for msgid, msgstr in committed.items() if not msgstr]
    assert untranslated == [], "English translations missing"
    po_text = (PROJECT / "locale/en/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in po_text.split("\n\n", 1)[1], "fuzzy entries left"

    with (PROJECT / "locale/en/LC_MESSAGES/django.mo").open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)
    stale = [msgid for msgid, msgstr in committed.items() if compiled.gettext(msgid) != msgstr]
    assert stale == [], "django.mo is stale: run `make messages`"
