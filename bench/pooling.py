#!/usr/bin/env python
"""Relais behind pgbouncer (Debian's package) on loopback, with two towns of the benchmarks'
database (`bench` and `pool2`, made by the product when missing).

  direct       gunicorn (2 workers) straight to PostgreSQL, persistent connections: four threads
               ask two towns' public catalogs (/api/v1/services/) in turn; each town has a
               service type of its own, which its answer must hold;
  session      the same through pgbouncer in session mode, Relais told so
               (RELAIS_DATABASE_POOLING=session: each request takes a server connection and
               gives it back): answers per second, and any answer of the wrong town;
  transaction  the same through pgbouncer in transaction mode, Relais not told (the setting
               refuses it): each answer without its town's type ran in the schema another
               request had chosen. This is why the mode is refused.

    make bench-scale            # or: .venv/bin/python bench/pooling.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    BENCH_DB,
    bench_database_url,
    prepare,
    production_environment,
    town_script,
)
from bench.scale import free_port  # noqa: E402

DATABASE = BENCH_DB
TOWNS = ("bench", "pool2")
SECOND_TOWN = town_script("pool2", "Ville de Pool", "pool2.localhost")
PATH = "/api/v1/services/"  # the town's public catalog, read from its schema

# Each town gets a service type of its own (its schema's rows, not the routing's), so that an
# answer read in the wrong schema shows.
MARKERS = """
import sys, django; django.setup()
from django_tenants.utils import schema_context
from crm.models import Department, ServiceCategory, ServiceType
for schema in sys.argv[1:]:
    with schema_context(schema):
        department, _ = Department.objects.get_or_create(code="banc", defaults={"name_fr": "Banc"})
        category, _ = ServiceCategory.objects.get_or_create(code="banc", defaults={"name_fr": "Banc"})
        ServiceType.objects.get_or_create(code=f"marqueur-{schema}", defaults={
            "name_fr": f"Marqueur {schema}", "department": department, "category": category,
            "location_required": False})
"""


def start_pgbouncer(url: str, mode: str, folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    parts = urlsplit(url)
    port = free_port()
    (folder / "users.txt").write_text(f'"{parts.username or "postgres"}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{DATABASE} = host={parts.hostname} port={parts.port or 5432} dbname={DATABASE}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        f"pool_mode = {mode}\ndefault_pool_size = 4\nmax_client_conn = 200\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    shutil.chown(folder, "postgres")
    for file in folder.iterdir():
        shutil.chown(file, "postgres")
    command = ["pgbouncer", str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer will not run as root
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("pgbouncer did not start: " + (folder / "pgbouncer.log").read_text()[-500:])


def start_gunicorn(env: dict[str, str], database_url: str, **extra: str) -> tuple[Any, int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "shared_config.wsgi"],
        cwd=ROOT,
        env=env
        | {
            "DATABASE_URL": database_url,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "RELAIS_HTTPS": "0",
            "RELAIS_BASE_DOMAIN": "localhost",
            "RELAIS_ROUTING_LISTEN": "0",
            # The catalog is rate-limited per client address, and every thread is 127.0.0.1.
            "RELAIS_API_CLIENT_RATE": "100000000/min",
        }
        | extra,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if page(port, TOWNS[0])[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer")


def page(port: int, town: str) -> tuple[int, str]:
    client = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request("GET", PATH, headers={"Host": f"{town}.localhost"})
        response = client.getresponse()
        return response.status, response.read().decode()
    finally:
        client.close()


def load(port: int, seconds: float, threads: int = 4) -> dict[str, float]:
    """Threads ask the two towns' catalogs in turn; counts answers, wrong towns and errors."""
    counts = {"pages": 0, "wrong_town": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run(offset: int) -> None:
        n = offset
        while time.perf_counter() < deadline:
            town = TOWNS[n % 2]
            n += 1
            try:
                status, body = page(port, town)
            except OSError:
                status, body = 0, ""
            with lock:
                if status != 200:
                    counts["errors"] += 1
                elif f"marqueur-{town}" not in body:
                    counts["wrong_town"] += 1
                else:
                    counts["pages"] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    total = sum(counts.values())
    return counts | {"per_second": round(total / (time.perf_counter() - started), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    options = parser.parse_args()
    if shutil.which("pgbouncer") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "pgbouncer"], check=True)
    url = bench_database_url()
    prepare(url)
    env = production_environment(url)
    subprocess.run([sys.executable, "-c", SECOND_TOWN], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-c", MARKERS, *TOWNS], env=env, cwd=ROOT, check=True)
    result: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M")}
    runs = [("direct", None, {}), ("session", "session", {"RELAIS_DATABASE_POOLING": "session"})]
    runs.append(("transaction", "transaction", {}))
    for name, mode, extra in runs:
        with tempfile.TemporaryDirectory() as scratch:
            bouncer = None
            target = url
            if mode is not None:
                bouncer, bouncer_port = start_pgbouncer(url, mode, Path(scratch))
                parts = urlsplit(url)
                target = (
                    f"postgres://{parts.username or 'postgres'}@127.0.0.1:{bouncer_port}/{DATABASE}"
                )
            server, port = start_gunicorn(env, target, **extra)
            try:
                load(port, 2)  # warm-up
                result[name] = load(port, options.seconds)
            finally:
                server.terminate()
                server.wait(timeout=30)
                if bouncer is not None:
                    bouncer.terminate()
                    bouncer.wait(timeout=30)
        print(name, json.dumps(result[name]), file=sys.stderr)
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env | {"RELAIS_DATABASE_POOLING": "transaction"},
        capture_output=True,
        text=True,
        check=False,
    )
    result["transaction_setting_refused"] = refused.returncode != 0 and (
        "mode session" in refused.stderr
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
