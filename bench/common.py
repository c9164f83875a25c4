"""What the benchmarks share: a dedicated database with one town, `bench.localhost`."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "bench.localhost"
BENCH_DB = "relais_bench"


def bench_database_url() -> str:
    """A dedicated database on the configured server (or the embedded one)."""
    import psycopg

    base = os.environ.get("DATABASE_URL")
    if not base:
        from shared_config.embedded_db import embedded_database_url

        base = embedded_database_url(ROOT / ".data")
    with psycopg.connect(base, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return urlunsplit(urlsplit(base)._replace(path=f"/{BENCH_DB}"))


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        SECRET_KEY="bench-only",
        DEBUG="0",
        # Plain HTTP on loopback: production's HTTPS redirect (and HSTS) would answer every
        # request with a redirect to a TLS port nothing listens on.
        RELAIS_HTTPS="0",
        RELAIS_DOTENV="",
        RELAIS_BASE_DOMAIN="localhost",
        BENCH_MODE="relais",
        PYTHONPATH=str(ROOT),
        PYTHONWARNINGS="ignore:No directory at",  # no collectstatic for a view without assets
    )
    env.update(extra)
    return env


def town_script(slug: str, name: str, domain: str) -> str:
    """A Python script that makes the live town `slug` through the product when it is missing
    (run with the product's environment)."""
    return f"""
import django; django.setup()
from tenants.models import Municipality, Region
from tenants.services import municipality_create
if not Municipality.objects.filter(slug={slug!r}).exists():
    municipality_create(name={name!r}, slug={slug!r}, domain={domain!r},
        region=Region.LAVAL, status=Municipality.Status.LIVE,
        privacy_officer_name="Banc", privacy_officer_email="banc@" + {domain!r})
"""


SETUP = town_script("bench", "Ville de Banc-d'Essai", HOST)


MIGRATE_TOWNS = """
import django; django.setup()
from django.core.management import call_command
from django_tenants.utils import schema_exists
# The filler towns of bench/provisioning.py are copies of table definitions, there only to
# give the catalog its size: they are never migrated. The towns the benchmarks use are.
for schema in ("bench", "copy_target", "copy_source"):
    if schema_exists(schema):
        call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
"""


def prepare(database_url: str) -> None:
    """Migrate the bench database and the towns the benchmarks use; create `bench` if missing."""
    env = child_env(database_url)
    shared = [sys.executable, str(ROOT / "manage.py"), "migrate_schemas", "--shared", "-v", "0"]
    subprocess.run(shared, env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-c", MIGRATE_TOWNS], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True)


def load_options(description: str | None) -> argparse.Namespace:
    """The options of a load benchmark (`--duration`, `--rounds`); exits when wrk is missing."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measure")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (make bench does it)")
    return options


def server_environment(extra: dict[str, str], *, static: bool = False) -> dict[str, str]:
    """The bench database migrated, and the environment its gunicorn runs with (this process
    takes it too); `static`: the pages' files collected as production serves them (hashed
    names, compressed copies)."""
    database_url = bench_database_url()
    prepare(database_url)
    env = child_env(database_url, **extra)
    os.environ.update(env)
    if static:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
    return env


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """The product's WSGI application under gunicorn, 2 sync workers, on loopback `port`."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shared_config.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )  # fmt: skip


def wait_ready(
    port: int, *, host: str, path: str, timeout: float = 30.0, any_answer: bool = False
) -> None:
    """Wait until gunicorn answers `path` with a 200 (with any HTTP status if `any_answer`).
    A worker still booting on a busy machine may accept the connection and answer late: that
    read timeout is one more try, not a failure."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except urllib.error.HTTPError:
            if any_answer:
                return
        except (urllib.error.URLError, OSError):  # refused, reset, or a read timed out
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn on port {port} did not answer {path} in {timeout} s")


def medians(samples: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each mode's median over its rounds, per metric."""
    return {
        name: {
            metric: statistics.median(sample[metric] for sample in values)
            for metric in ("rps", "p50_ms", "p95_ms", "p99_ms")
        }
        for name, values in samples.items()
    }


def run_header() -> dict[str, str]:
    """The machine and the command, at the top of every result file."""
    return {
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · {platform.python_version()}",
        "command": " ".join(sys.argv),
    }


# --- The benchmarks of many towns (bench/upgrade.py, bench/scale.py) ----------------------------


def dedicated_database(name: str) -> tuple[str, Path | None]:
    """A database of its own on the configured server (or the embedded one), kept between
    runs: its URL, and the folder of the client tools matching the embedded server (None: the
    PATH's, for DATABASE_URL's server)."""
    import psycopg

    base = os.environ.get("DATABASE_URL")
    bin_dir = None
    if not base:
        import pgserver

        from shared_config.embedded_db import embedded_database_url

        base = embedded_database_url(ROOT / ".data")
        bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    with psycopg.connect(base, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}")), bin_dir


def client_tool(bin_dir: Path | None, name: str) -> str:
    """pg_dump, psql…: the embedded server's own, else the PATH's."""
    return str(bin_dir / name) if bin_dir else (shutil.which(name) or name)


def production_environment(database_url: str) -> dict[str, str]:
    """The production settings on `database_url`, for the product's own commands: no spare
    pool, tasks run in the command, warnings only."""
    return dict(os.environ) | {
        "DJANGO_SETTINGS_MODULE": "shared_config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-only",
        "DEBUG": "0",
        "RELAIS_DOTENV": "",
        "RELAIS_SPARE_POOL_SIZE": "0",
        "RELAIS_TASKS_BACKEND": "immediate",
        "RELAIS_EXPORT_DIR": tempfile.mkdtemp(prefix="relais-bench-exports-"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]
