#!/usr/bin/env python
"""Routing benchmark: throughput of a trivial view on a town's host under gunicorn (2 workers).

Compared in one run, on the same machine, database and view:
  none          no tenant middleware at all (the ceiling);
  stock-conn0   django-tenants' TenantMainMiddleware with Django's default CONN_MAX_AGE=0;
  stock         TenantMainMiddleware with Relais's persistent connections;
  relais        Relais's TenantRoutingMiddleware (in-process routing table).
Load comes from wrk on loopback. Modes are interleaved over several rounds and the median kept.

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


def wrk(port: int, seconds: int, connections: int) -> dict[str, float]:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            f"Host: {HOST}",
            f"http://127.0.0.1:{port}/ping",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"errors under load:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {"rps": rps}


def measure(mode: str, database_url: str, seconds: int, connections: int) -> float:
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
        wrk(port, 2, connections)  # warm-up: both workers load their code and tables
        return wrk(port, seconds, connections)["rps"]
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
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    for round_number in range(1, args.rounds + 1):
        for mode in MODES:
            rps = measure(mode, database_url, args.duration, args.connections)
            samples[mode].append(rps)
            print(f"round {round_number} {mode:<12} {rps:9.0f} req/s", flush=True)

    median = {mode: statistics.median(values) for mode, values in samples.items()}
    result = {
        "machine": f"{platform.node()} · {os.cpu_count()} CPU · {platform.python_version()}",
        "command": " ".join(sys.argv),
        "median_rps": median,
        "samples": samples,
        "relais_vs_none": median["relais"] / median["none"],
        "relais_vs_stock": median["relais"] / median["stock"],
        "relais_vs_stock_conn0": median["relais"] / median["stock-conn0"],
    }
    print()
    for mode, value in median.items():
        print(f"{mode:<12} {value:9.0f} req/s (median of {args.rounds})")
    print(f"relais / none        = {result['relais_vs_none']:.2f}  (target ≥ 0.80)")
    print(f"relais / stock       = {result['relais_vs_stock']:.2f}  (target ≥ 3)")
    print(f"relais / stock-conn0 = {result['relais_vs_stock_conn0']:.2f}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "routing.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
