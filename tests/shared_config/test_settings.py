from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shared_config.env import env_bool, load_dotenv
from shared_config.settings import database_config

PROJECT = Path(__file__).resolve().parents[2]


def _start_django(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    clean |= {
        "DJANGO_SETTINGS_MODULE": "shared_config.settings",
        "RELAIS_DOTENV": "",  # ignore the developer's .env
        "DATABASE_URL": "postgres://relais@127.0.0.1:1/unused",  # parsed, never connected
    } | env
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_debug_off_without_secret_key_refuses_to_start():
    result = _start_django(DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY est obligatoire" in result.stderr
    assert "started" not in result.stdout


def test_debug_off_with_secret_key_starts():
    result = _start_django(DEBUG="0", SECRET_KEY="un-secret-de-production")

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_allowed_hosts_derive_from_the_base_domain():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.ALLOWED_HOSTS)",
        ],
        cwd=PROJECT,
        env=os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "shared_config.settings",
            "RELAIS_DOTENV": "",
            "DEBUG": "1",
            "DATABASE_URL": "postgres://relais@127.0.0.1:1/unused",
            "RELAIS_BASE_DOMAIN": "relais.quebec",
            "RELAIS_EXTRA_HOSTS": "requetes.levis.ca",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "['relais.quebec', '.relais.quebec', 'requetes.levis.ca']"


def test_database_url_with_a_socket_directory():
    config = database_config("postgresql://postgres:@/relais?host=/srv/pg&sslmode=disable")

    assert config["NAME"] == "relais"
    assert config["HOST"] == "/srv/pg"
    assert config["USER"] == "postgres"
    assert config["OPTIONS"] == {"sslmode": "disable"}
    assert config["ENGINE"] == "django_tenants.postgresql_backend"
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["CONN_MAX_AGE"] == 600


def test_database_url_with_host_port_and_password():
    config = database_config("postgres://relais:p%40ss@db.interne:6432/relais_prod")

    assert (config["HOST"], config["PORT"], config["PASSWORD"], config["NAME"]) == (
        "db.interne",
        "6432",
        "p@ss",
        "relais_prod",
    )


def test_a_non_postgres_database_url_is_refused():
    with pytest.raises(ImproperlyConfigured):
        database_config("sqlite:///relais.db")


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("RELAIS_TEST_FLAG", "peut-être")
    with pytest.raises(ImproperlyConfigured):
        env_bool("RELAIS_TEST_FLAG")
    monkeypatch.setenv("RELAIS_TEST_FLAG", "oui")
    assert env_bool("RELAIS_TEST_FLAG") is True


def test_dotenv_never_overrides_the_environment(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("RELAIS_T1=from-file\nexport RELAIS_T2='quoted'\n# comment\nRELAIS_T3=x\n")
    monkeypatch.setenv("RELAIS_T1", "from-env")
    monkeypatch.delenv("RELAIS_T2", raising=False)
    monkeypatch.delenv("RELAIS_T3", raising=False)

    load_dotenv(dotenv)

    assert os.environ["RELAIS_T1"] == "from-env"
    assert os.environ["RELAIS_T2"] == "quoted"
    assert os.environ["RELAIS_T3"] == "x"
    monkeypatch.delenv("RELAIS_T2")
    monkeypatch.delenv("RELAIS_T3")
