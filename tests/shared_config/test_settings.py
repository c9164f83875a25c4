from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from shared_config.env import env_bool, load_dotenv
from shared_config.settings import database_config

PROJECT = Path(__file__).resolve().parents[2]


def _start_django(
    script: str = "import django; django.setup(); print('started')", **env: str
) -> subprocess.CompletedProcess[str]:
    """`script` (by default: start Django) with the production settings and `env`."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "CONN_MAX_AGE"}
    }
    clean |= {
        "DJANGO_SETTINGS_MODULE": "shared_config.settings",
        "RELAIS_DOTENV": "",  # ignore the developer's .env
        "DATABASE_URL": "postgres://relais@127.0.0.1:1/unused",  # parsed, never connected
    } | env
    return subprocess.run(  # noqa: S603  (this interpreter, the tests' scripts)
        [sys.executable, "-c", script],
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


# --- Production security settings, as the environment drives them ----------------------------
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "RELAIS_BASE_DOMAIN": "relais.exemple.qc.ca",
}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`args` run by Python in the project with the real settings, in an environment of `env`
    alone: not the test run's, whose settings force plain HTTP (and whose browser tests allow
    async-unsafe calls, which the deploy check reports)."""
    return subprocess.run(  # noqa: S603 (arguments written by the tests)
        [sys.executable, *args],
        cwd=PROJECT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "shared_config.settings",
            "RELAIS_DOTENV": "",  # ignore the developer's .env
            "DATABASE_URL": "postgres://relais@127.0.0.1:1/unused",  # parsed, never connected
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _security_settings(**env: str) -> dict[str, Any]:
    names = [
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SILENCED_SYSTEM_CHECKS",
        "CONTENT_SECURITY_POLICY",
        "CONTENT_SECURITY_POLICY_REPORT_ONLY",
    ]
    script = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    result = _run(["-c", script], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_with_the_production_settings():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
        RELAIS_HTTPS="1",
        RELAIS_BEHIND_PROXY="1",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_check_deploy_fails_when_production_turns_hsts_off():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
        SECURE_HSTS_SECONDS="0",
    )

    assert result.returncode != 0
    assert "security.W004" in result.stderr  # SECURE_HSTS_SECONDS


def test_production_serves_https_only_by_default():
    values = _security_settings(**PRODUCTION)

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_REDIRECT_EXEMPT"] == ["^healthz$", "^readyz$", "^metrics$"]
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]  # preload off, by decision
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["CONTENT_SECURITY_POLICY"] is not None
    assert values["CONTENT_SECURITY_POLICY_REPORT_ONLY"] is None


def test_development_stays_on_plain_http_under_the_same_policy():
    production = _security_settings(**PRODUCTION)
    development = _security_settings(DEBUG="1")

    assert development["SECURE_SSL_REDIRECT"] is False
    assert development["SECURE_HSTS_SECONDS"] == 0
    assert development["SESSION_COOKIE_SECURE"] is False
    assert development["CSRF_COOKIE_SECURE"] is False
    assert development["CONTENT_SECURITY_POLICY"] == production["CONTENT_SECURITY_POLICY"]


def test_each_https_setting_can_be_set_on_its_own():
    values = _security_settings(
        **PRODUCTION,
        SECURE_SSL_REDIRECT="0",  # a proxy redirects instead
        SECURE_HSTS_SECONDS="300",  # a first rollout
        SECURE_HSTS_PRELOAD="1",
        RELAIS_BEHIND_PROXY="1",
    )

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 300
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SILENCED_SYSTEM_CHECKS"] == []
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_SECURE"] is True


def test_the_policy_can_be_rolled_out_in_report_only_mode():
    enforced = _security_settings(**PRODUCTION)
    report_only = _security_settings(
        **PRODUCTION,
        RELAIS_CSP_REPORT_ONLY="1",
        RELAIS_CSP_REPORT_URI="https://sentry.exemple.qc.ca/api/2/security/?sentry_key=k",
    )

    assert report_only["CONTENT_SECURITY_POLICY"] is None
    assert report_only["CONTENT_SECURITY_POLICY_REPORT_ONLY"]["DIRECTIVES"] == {
        **enforced["CONTENT_SECURITY_POLICY"]["DIRECTIVES"],
        "report-uri": ["https://sentry.exemple.qc.ca/api/2/security/?sentry_key=k"],
    }


def test_a_transaction_mode_pooler_is_refused_at_start():
    """Behind pgbouncer in transaction mode, a query could run in the town another request
    chose (bench/pooling.py measures it): Relais refuses to start, saying why."""
    result = _start_django(DEBUG="1", RELAIS_DATABASE_POOLING="transaction")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "mode session" in result.stderr
    assert "started" not in result.stdout
    assert _start_django(DEBUG="1", RELAIS_DATABASE_POOLING="statement").returncode != 0


def test_behind_a_session_pooler_each_request_gives_its_connection_back():
    script = (
        "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    )
    outputs = [
        _start_django(script, DEBUG="1", RELAIS_DATABASE_POOLING=pooling).stdout.strip()
        for pooling in ("session", "")
    ]
    assert outputs == ["0", "600"]
