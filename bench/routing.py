#!/usr/bin/env python
"""Routing benchmark: throughput of two views on a town's host under gunicorn (2 workers):
`/ping` makes no query (the best case), `/query` makes one (bench/urls.py), as a real page does.

Compared in one run, on the same machine, database and views:
  none          no tenant middleware at all (the ceiling);
  stock-conn0   django-tenants' TenantMainMiddleware with Django's default CONN_MAX_AGE=0;
  stock         TenantMainMiddleware with Relais's persistent connections;
  relais        Relais's TenantRoutingMiddleware (in-process routing table).
Load comes from wrk on loopback. Modes are interleaved over several rounds and the median kept;
the ratios are also taken within each round (the machine's speed drifts between rounds).

    make bench                    # or: .venv/bin/python bench/routing.py --duration 10 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import HOST, bench_database_url, child_env, prepare, wait_ready  # noqa: E402

MODES = {
    "none": {"BENCH_MODE": "none"},
    "stock-conn0": {"BENCH_MODE": "stock", "CONN_MAX_AGE": "0"},
    "stock": {"BENCH_MODE": "stock"},
    "relais": {"BENCH_MODE": "relais"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


VIEWS = ("/ping", "/query")


def wrk(port: int, seconds: int, connections: int, view: str = "/ping") -> dict[str, float]:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            f"Host: {HOST}",
            f"http://127.0.0.1:{port}{view}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"errors under load:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {"rps": rps}


def measure(mode: str, database_url: str, seconds: int, connections: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "shared_config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=child_env(database_url, **MODES[mode]),
        cwd=ROOT,
    )
    try:
        wait_ready(port, host=HOST, path="/ping")
        rates = {}
        for view in VIEWS:
            wrk(port, 2, connections, view)  # warm-up: both workers load their code and tables
            rates[view] = wrk(port, seconds, connections, view)["rps"]
        return rates
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measure")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (make bench does it)")

    database_url = bench_database_url()
    prepare(database_url)
    samples: dict[str, dict[str, list[float]]] = {view: {m: [] for m in MODES} for view in VIEWS}
    for round_number in range(1, args.rounds + 1):
        for mode in MODES:
            rates = measure(mode, database_url, args.duration, args.connections)
            for view, rps in rates.items():
                samples[view][mode].append(rps)
                print(f"round {round_number} {view:<7} {mode:<12} {rps:9.0f} req/s", flush=True)

    result: dict[str, object] = {
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · {platform.python_version()}",
        "command": " ".join(sys.argv),
        "samples": samples,
    }
    print()
    for view in VIEWS:
        by_mode = samples[view]
        median = {mode: statistics.median(values) for mode, values in by_mode.items()}
        ratios = {
            f"relais_vs_{other}": [
                relais / base
                for relais, base in zip(by_mode["relais"], by_mode[other], strict=True)
            ]
            for other in ("none", "stock", "stock-conn0")
        }
        result[view] = {"median_rps": median, "ratios_by_round": ratios}
        for mode, value in median.items():
            print(f"{view:<7} {mode:<12} {value:9.0f} req/s (median of {args.rounds})")
        for name, values in ratios.items():
            each = " · ".join(f"{value:.2f}" for value in values)
            print(f"{view:<7} {name:<22} = {statistics.median(values):.2f}  (rounds: {each})")
    print("targets (/ping): relais / none ≥ 0.80, relais / stock ≥ 3")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "routing.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
