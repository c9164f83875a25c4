#!/usr/bin/env python
"""An upgrade and a backup of an installation of N towns (default 100), as the runbook does them.

The database `relais_bench_upgrade` gets N real towns, each a schema made by the migrations
(spare schemas claimed by `municipality_create`, the provisioning path); it is kept between runs.
Then, each with the production settings and commands:
  noop        `migrate_schemas --executor=multiprocessing` with nothing to apply (every
              release pays it);
  migration   the same applying one real migration to every town (crm 0024: a column, a data
              step, a unique constraint), after rolling it back (`migrate_schemas crm 0023`);
  pg_dump     the whole cluster, custom format (`pg_dump -Fc`), its size;
  export      one town's archive (`export_tenant`).

    .venv/bin/python bench/upgrade.py [--towns 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import client_tool, dedicated_database, manage, production_environment  # noqa: E402

DATABASE = "relais_bench_upgrade"
PREVIOUS = ("crm", "0023_portal_answers_by_question")

MAKE_TOWNS = """
import django, sys; django.setup()
from tenants.models import Municipality, Region
from tenants.provisioning import spare_pool_refill
from tenants.services import municipality_create
wanted = int(sys.argv[1])
have = set(Municipality.objects.values_list("slug", flat=True))
missing = [index for index in range(1, wanted + 1) if f"t{index:04d}" not in have]
spare_pool_refill(size=len(missing))
for index in missing:
    municipality_create(
        name=f"Ville {index:04d}", slug=f"t{index:04d}", domain=f"t{index:04d}.upgrade.localhost",
        region=Region.LAVAL, status=Municipality.Status.LIVE,
        privacy_officer_name="Greffe", privacy_officer_email=f"greffe@t{index:04d}.upgrade.localhost")
print(Municipality.objects.count())
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    url, bin_dir = dedicated_database(DATABASE)
    env = production_environment(url)

    subprocess.run(manage("migrate_schemas", "--shared", "-v", "0"), env=env, cwd=ROOT, check=True)
    started = time.perf_counter()
    made = subprocess.run(
        [sys.executable, "-c", MAKE_TOWNS, str(options.towns)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    towns = int(made.stdout.strip().splitlines()[-1])
    print(f"{towns} towns ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    migrate = manage("migrate_schemas", "--noinput", "--executor=multiprocessing", "-v", "0")
    noop = [timed(migrate, env) for _ in range(options.rounds)]
    applied = []
    for _ in range(max(1, options.rounds - 1)):
        subprocess.run(
            manage(
                "migrate_schemas", *PREVIOUS, "--noinput", "--executor=multiprocessing", "-v", "0"
            ),
            env=env,
            cwd=ROOT,
            check=True,
        )
        applied.append(timed(migrate, env))

    pg_dump = client_tool(bin_dir, "pg_dump")
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "cluster.dump"
        dumps = [
            timed([pg_dump, "--format=custom", f"--file={dump}", url], env)
            for _ in range(options.rounds)
        ]
        size = dump.stat().st_size
        archive = Path(folder) / "town.tar.gz"
        exports = [
            timed(manage("export_tenant", "--tenant=t0001", f"--output={archive}"), env)
            for _ in range(options.rounds)
        ]

    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "towns": towns,
        "noop_s": round(statistics.median(noop), 1),
        "migration_s": round(statistics.median(applied), 1),
        "noop_per_100_towns_s": round(statistics.median(noop) * 100 / towns, 1),
        "migration_per_100_towns_s": round(statistics.median(applied) * 100 / towns, 1),
        "pg_dump_s": round(statistics.median(dumps), 1),
        "pg_dump_mb": round(size / 1e6, 1),
        "export_one_town_s": round(statistics.median(exports), 1),
        "rounds": {"noop": noop, "migration": applied, "pg_dump": dumps, "export": exports},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
