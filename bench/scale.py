#!/usr/bin/env python
"""Relais with hundreds of towns on one PostgreSQL: deployments, memory, backups, catalog size.

The database `relais_bench_scale` is brought to each step's number of towns (default 200, 500
and 1,100) and kept between runs. The first town, `s0001`, is provisioned by the product
(`municipality_create`: a schema made by the migrations); the others are copies of its schema,
definitions and rows (the rows its migrations write: defaults, alert topics, the migration
records), restored under their own name with `pg_dump | psql`, and registered as live towns
with their domain: the same tables, indexes, constraints and migration records as a migrated
town, in a tenth of the time. At each step, with the production settings and commands:

  migrate-noop       `migrate_schemas --executor=multiprocessing`, nothing to apply;
  migrate-one        the same applying one migration to every town (crm 0024: a column, a data
                     step, a unique constraint) after undoing it everywhere;
  backend-memory     one PostgreSQL backend's memory (pg_backend_memory_contexts) after one
                     query in every town (its catalog and relation caches);
  pg_dump            the whole cluster (custom format), and its size;
  catalog, database  the size of pg_catalog and of the database.
With --serving-only, for the towns already there: the routing table's load time and memory,
and a gunicorn worker asked every town's home page, with and without the connection budget
(its memory and its backend's). With --console, for the towns already there:
  console            the platform console's home (every town with its domains, plan and
                     activity), signed in with a second factor, through gunicorn: p50 and p95;
  provisioning       `municipality_onboard` as the console's wizard runs it, from a host town
                     holding the demo catalog and bank: a spare claimed, the catalog and bank
                     copied, the administrator invited, committed: p50.

    make bench-scale                 # or: .venv/bin/python bench/scale.py [--steps 200,500,1100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    client_tool,
    dedicated_database,
    manage,
    production_environment,
    town_script,
)

DATABASE = "relais_bench_scale"
TEMPLATE = "s0001"
PREVIOUS = ("crm", "0023_portal_answers_by_question")

FIRST_TOWN = town_script(TEMPLATE, "Ville 0001", "s0001.scale.localhost")


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def towns_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM tenants_municipality").fetchone()
    return int(row[0]) if row else 0


def grow(url: str, bin_dir: Path | None, env: dict[str, str], wanted: int) -> None:
    """Copies of the template town's schema until the database holds `wanted` towns."""
    import psycopg

    have = towns_count(url)
    if have >= wanted:
        return
    dump = subprocess.run(
        [client_tool(bin_dir, "pg_dump"), f"--schema={TEMPLATE}", "--no-owner", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # The dump names its schema in identifiers only (s0001.table, CREATE SCHEMA s0001): the
    # template's rows hold no such word.
    pattern = re.compile(rf"\b{TEMPLATE}\b")
    started = time.perf_counter()
    # Ten towns per transaction: each holds a lock per table and index it creates.
    for start in range(have + 1, wanted + 1, 10):
        names = [f"s{index:04d}" for index in range(start, min(start + 10, wanted + 1))]
        script = "".join(pattern.sub(name, dump) for name in names)
        restored = subprocess.run(
            [
                client_tool(bin_dir, "psql"),
                "-q",
                "--single-transaction",
                "-v",
                "ON_ERROR_STOP=1",
                url,
            ],
            input=script,
            check=False,
            capture_output=True,
            text=True,
        )
        if restored.returncode != 0:
            raise SystemExit(f"psql: {restored.stderr[-2000:]}")
        with psycopg.connect(url) as conn:
            for name in names:
                # The template's record with this town's names: a live town like the others.
                town_id = first(
                    conn.execute(
                        "INSERT INTO tenants_municipality (schema_name, name, slug, kind, status, "
                        "population, region, languages, time_zone, privacy_officer_name, "
                        "privacy_officer_email, display_name, logo, primary_colour, created_at, "
                        "updated_at, host_id, suspended_from) "
                        "SELECT %s, %s, %s, kind, status, population, region, languages, time_zone, "
                        "privacy_officer_name, %s, display_name, logo, primary_colour, now(), now(), "
                        "host_id, suspended_from FROM tenants_municipality WHERE schema_name = %s "
                        "RETURNING id",
                        [
                            name,
                            f"Ville {name[1:]}",
                            name,
                            f"greffe@{name}.scale.localhost",
                            TEMPLATE,
                        ],
                    ).fetchone()
                )
                conn.execute(
                    "INSERT INTO tenants_domain (domain, tenant_id, is_primary) VALUES (%s, %s, true)",
                    [f"{name}.scale.localhost", town_id],
                )
        print(f"  {names[-1]} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)


def first(row: tuple[Any, ...] | None) -> Any:
    """The first column of a row a query must return."""
    if row is None:
        raise SystemExit("a query returned no row")
    return row[0]


def backend_memory(url: str) -> tuple[int, int, int]:
    """One backend's memory before and after one query in every town, and the towns touched."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        schemas = [
            name
            for (name,) in conn.execute(
                "SELECT schema_name FROM tenants_municipality WHERE schema_name <> 'public'"
            ).fetchall()
        ]
        memory = "SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts"
        before = first(conn.execute(memory).fetchone())
        for schema in schemas:
            conn.execute(sql.SQL("SET search_path = {}, public").format(sql.Identifier(schema)))
            # What a request of the town's portal reads: its requests with their type.
            conn.execute(
                "SELECT r.id FROM crm_servicerequest r JOIN crm_servicetype t "
                "ON t.id = r.service_type_id ORDER BY r.created_at DESC LIMIT 20"
            ).fetchall()
        after = first(conn.execute(memory).fetchone())
    return int(before), int(after), len(schemas)


def lock_needs(url: str) -> tuple[int, int]:
    """The tables and sequences pg_dump locks, and the slots of the server's lock table."""
    import psycopg

    with psycopg.connect(url) as conn:
        relations = first(
            conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'S', 'p', 'v', 'm') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            ).fetchone()
        )
        slots = first(
            conn.execute(
                "SELECT current_setting('max_locks_per_transaction')::int * "
                "(current_setting('max_connections')::int "
                "+ current_setting('max_prepared_transactions')::int)"
            ).fetchone()
        )
    return int(relations), int(slots)


def sizes(url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        catalog = first(
            conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog'"
            ).fetchone()
        )
        whole = first(conn.execute("SELECT pg_database_size(current_database())").fetchone())
    return int(catalog), int(whole)


def measure(url: str, bin_dir: Path | None, env: dict[str, str], towns: int) -> dict[str, object]:
    migrate = manage("migrate_schemas", "--noinput", "--executor=multiprocessing", "-v", "0")
    noop, _ = timed(migrate, env)
    undo, _ = timed(
        manage("migrate_schemas", *PREVIOUS, "--noinput", "--executor=multiprocessing", "-v", "0"),
        env,
    )
    one, output = timed(migrate, env)
    # A database kept from a larger run holds more towns than the step: they are measured.
    towns = towns_count(url)
    if f"{towns} à migrer" not in output:
        raise SystemExit(f"the migration did not reach every town: {output[-500:]}")
    before, after, touched = backend_memory(url)
    # pg_dump locks every table and sequence of the cluster in one transaction: the server's
    # lock table (max_locks_per_transaction × max_connections) must hold them all.
    relations, lock_slots = lock_needs(url)
    dumped: float | str
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "cluster.dump"
        try:
            dumped, _ = timed(
                [client_tool(bin_dir, "pg_dump"), "--format=custom", f"--file={dump}", url], env
            )
            dumped = round(dumped, 1)
            dump_size = round(dump.stat().st_size / 1e6, 1)
        except subprocess.CalledProcessError as error:
            dumped, dump_size = f"refused: {error.stderr.strip().splitlines()[0]}", 0.0
    catalog, whole = sizes(url)
    return {
        "towns": towns,
        "migrate_noop_s": round(noop, 1),
        "migrate_one_s": round(one, 1),
        "undo_one_s (django-tenants, every town)": round(undo, 1),
        "backend_memory_mib_before": round(before / 2**20, 1),
        "backend_memory_mib_after": round(after / 2**20, 1),
        "backend_kib_per_town": round((after - before) / 1024 / touched, 1),
        "pg_dump_s": dumped,
        "pg_dump_mb": dump_size,
        "relations_to_lock": relations,
        "server_lock_slots": lock_slots,
        "pg_catalog_mb": round(catalog / 1e6, 1),
        "database_mb": round(whole / 1e6, 1),
    }


ROUTING = """
import django, json, time, tracemalloc; django.setup()
from tenants import routing
tracemalloc.start()
started = time.perf_counter()
table = routing._load()
seconds = time.perf_counter() - started
size, _peak = tracemalloc.get_traced_memory()
print(json.dumps({"routing_load_ms": round(seconds * 1000, 1), "routing_kib": round(size / 1024)}))
"""


def one_worker(env: dict[str, str], port: int, **extra: str) -> subprocess.Popen[bytes]:
    """The product's gunicorn (deploy/gunicorn.conf.py) with one worker on loopback `port`,
    the towns under `scale.localhost`, plain HTTP."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "shared_config.wsgi"],
        cwd=ROOT,
        env=env
        | {
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
            "RELAIS_HTTPS": "0",
            "RELAIS_BASE_DOMAIN": "scale.localhost",
            "RELAIS_ROUTING_LISTEN": "0",
        }
        | extra,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def serving(url: str, env: dict[str, str], budget: int) -> dict[str, object]:
    """A gunicorn worker (production settings) asked every town's home page once: its RSS and
    its backend's memory after, with RELAIS_CONNECTION_MAX_SCHEMAS = `budget`."""
    import http.client

    import psycopg

    with psycopg.connect(url) as conn:
        towns = [
            name
            for (name,) in conn.execute(
                "SELECT schema_name FROM tenants_municipality ORDER BY schema_name"
            ).fetchall()
        ]
    port = free_port()
    application = f"relais-scale-{budget}"
    server = one_worker(
        env,
        port,
        DATABASE_URL=f"{url}?application_name={application}",
        RELAIS_CONNECTION_MAX_SCHEMAS=str(budget),
    )
    try:
        statuses: dict[int, int] = {}
        started = time.perf_counter()
        for index, town in enumerate(towns):
            for attempt in range(100 if index == 0 else 1):
                try:
                    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    client.request("GET", "/", headers={"Host": f"{town}.scale.localhost"})
                    status = client.getresponse().status
                    client.close()
                    break
                except OSError:
                    if attempt == 99:
                        raise
                    time.sleep(0.2)
            statuses[status] = statuses.get(status, 0) + 1
        seconds = time.perf_counter() - started
        worker = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        rss_kib = int(Path(f"/proc/{worker}/status").read_text().split("VmRSS:")[1].split()[0])
        with psycopg.connect(url, autocommit=True) as conn:
            backend = first(
                conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                    [application],
                ).fetchone()
            )
            # PostgreSQL 14+: the backend writes its memory contexts to the server's log; its
            # total is read here from /proc instead, as the operating system sees it.
            private_kib = backend_private_kib(int(backend))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "budget": budget,
        "pages": len(towns),
        "statuses": statuses,
        "pages_per_s": round(len(towns) / seconds, 1),
        "worker_rss_mib": round(rss_kib / 1024, 1),
        "backend_private_mib": round(private_kib / 1024, 1) if private_kib else "n/a",
    }


CONSOLE_SETUP = """
import django, json; django.setup()
from django.test import Client
from django_tenants.utils import schema_context
from onboarding.models import ConsoleMember
from tenants.accounts.models import User
from tenants.accounts.services import account_email_verify
from tests.accounts import sign_in, totp_device
import time
# A new account each run: deleting one from the public schema would cascade into the towns'
# staff profiles, which the public schema does not have.
email = f"banc-console-{int(time.time())}@scale.localhost"
with schema_context("public"):
    user = User.objects.create_user(email=email, password="Banc-tres-solide-2026")
    account_email_verify(user=user)
    ConsoleMember.objects.create(user=user, role="operator")
    secret = totp_device(user)
client = Client(HTTP_HOST="scale.localhost")
sign_in(client, email, password="Banc-tres-solide-2026", secret=secret)
print(json.dumps({name: morsel.value for name, morsel in client.cookies.items()}))
"""

HOST_TOWN = """
import django, time; django.setup()
from django_tenants.utils import schema_context
from crm.demo.build import _catalog, _faq
from crm.models import ServiceType
from tenants.models import Municipality, Region
from tenants.services import municipality_create
host = Municipality.objects.filter(slug="hote").first()
if host is None:
    host = municipality_create(name="Ville hôte", slug="hote", domain="hote.scale.localhost",
        region=Region.LAVAL, status=Municipality.Status.LIVE, privacy_officer_name="Greffe",
        privacy_officer_email="greffe@hote.scale.localhost")
Municipality.objects.filter(pk=host.pk).update(kind=Municipality.Kind.HOST)
with schema_context("hote"):
    if not ServiceType.objects.exists():
        _catalog()
        _faq()
"""

PROVISION = """
import django, json, statistics, sys, time; django.setup()
from django.db import connection
from onboarding.services import municipality_onboard
from tenants.models import Domain, Municipality, Region
from tenants.provisioning import spare_schema_create
host = Municipality.objects.get(slug="hote")
samples = []
for index in range(int(sys.argv[1])):
    slug = f"prov-{index}"
    spare_schema_create()  # the pool's work, before anyone asks
    started = time.perf_counter()
    result = municipality_onboard(name=f"Nouvelle {index}", slug=slug,
        domain=f"{slug}.scale.localhost", host=host, region=Region.LAVAL,
        privacy_officer_name="Greffe", privacy_officer_email=f"greffe@{slug}.scale.localhost",
        administrator_email=f"admin@{slug}.scale.localhost")
    samples.append((time.perf_counter() - started) * 1000)
    counts = result.clone.counts if result.clone else {}
    town = Municipality.objects.get(slug=slug)
    Domain.objects.filter(tenant=town).delete()
    Municipality.objects.filter(pk=town.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{town.schema_name}" CASCADE')
print(json.dumps({"provisioning_ms": [round(ms) for ms in samples],
    "provisioning_p50_ms": round(statistics.median(samples)), "copied": counts}))
"""


def console(url: str, env: dict[str, str], samples: int) -> dict[str, object]:
    """The console's home through gunicorn (production settings, 1 worker), signed in."""
    import http.client
    import statistics

    signed = subprocess.run(
        [sys.executable, "-c", CONSOLE_SETUP],
        env=env | {"RELAIS_HTTPS": "0", "RELAIS_BASE_DOMAIN": "scale.localhost"},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    cookies = json.loads(signed.stdout.strip().splitlines()[-1])
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    port = free_port()
    server = one_worker(env, port)

    def get() -> tuple[int, int]:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            client.request(
                "GET", "/console/", headers={"Host": "scale.localhost", "Cookie": cookie}
            )
            response = client.getresponse()
            return response.status, len(response.read())
        finally:
            client.close()

    try:
        for attempt in range(150):
            try:
                get()
                break
            except OSError:
                if attempt == 149:
                    raise
                time.sleep(0.2)
        status, size = get()
        if status != 200:
            raise SystemExit(f"the console's home answered {status}")
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            get()
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=30)
    timings.sort()
    return {
        "console_home_p50_ms": round(statistics.median(timings), 1),
        "console_home_p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
        "console_home_kb": round(size / 1000),
        "samples": samples,
    }


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def backend_private_kib(pid: int) -> int | None:
    """A PostgreSQL backend's own memory: the private pages of its anonymous mappings (heap,
    memory contexts), from /proc when the server runs on this machine. The shared memory
    segment is left out: its pages count as private in smaps until another process touches
    them, which would count the shared buffers this backend read."""
    try:
        smaps = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return None
    total = 0
    anonymous = False
    for line in smaps.splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            name = fields[5] if len(fields) > 5 else ""
            anonymous = name in ("", "[heap]")
        elif anonymous and fields and fields[0] in ("Private_Clean:", "Private_Dirty:"):
            total += int(fields[1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="200,500,1100")
    parser.add_argument(
        "--serving-only",
        action="store_true",
        help="only the routing table and a gunicorn worker across the towns already there",
    )
    parser.add_argument(
        "--console",
        action="store_true",
        help="only the console's home and a provisioning, with the towns already there",
    )
    options = parser.parse_args()
    if options.console:
        url, _bin_dir = dedicated_database(DATABASE)
        env = production_environment(url)
        # The pages' files as production serves them (hashed names): the console's templates
        # name them.
        subprocess.run(
            manage("collectstatic", "--noinput", "-v", "0"), env=env, cwd=ROOT, check=True
        )
        subprocess.run([sys.executable, "-c", HOST_TOWN], env=env, cwd=ROOT, check=True)
        provisioned = subprocess.run(
            [sys.executable, "-c", PROVISION, "9"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        result = {"towns": towns_count(url)} | console(url, env, 40)
        result |= json.loads(provisioned.stdout.strip().splitlines()[-1])
        print(json.dumps(result, indent=2))
        return
    if options.serving_only:
        url, _bin_dir = dedicated_database(DATABASE)
        env = production_environment(url)
        loaded = subprocess.run(
            [sys.executable, "-c", ROUTING],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        result: dict[str, object] = {"towns": towns_count(url)} | json.loads(loaded.stdout)
        result["serving"] = [serving(url, env, budget) for budget in (100000, 100)]
        print(json.dumps(result, indent=2))
        return
    url, bin_dir = dedicated_database(DATABASE)
    env = production_environment(url)
    subprocess.run(manage("migrate_schemas", "--shared", "-v", "0"), env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-c", FIRST_TOWN], env=env, cwd=ROOT, check=True)
    results = []
    for towns in (int(step) for step in options.steps.split(",")):
        started = time.perf_counter()
        grow(url, bin_dir, env, towns)
        print(f"{towns} towns in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        results.append(measure(url, bin_dir, env, towns))
        print(json.dumps(results[-1]), file=sys.stderr)
    print(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "steps": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
