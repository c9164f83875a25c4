#!/usr/bin/env python
"""Intake benchmark: the REST API's request intake and list under gunicorn, with 100,000
requests in the town, against the database's own cost of the same writes, in the same run.

One gunicorn (2 sync workers, loopback) serves every mode with the same settings, middleware,
tenant routing and database; its URLconf is the town's plus one bench-only view
(bench/intake_urls.py). Load comes from wrk on loopback:
  baseline       POST /bench/baseline/: the request, its number and its creation event written
                 in one SQL statement (same tables and indexes, one round trip)
  api-post       POST /api/v1/requests/ with a write API key: parsed, validated, numbered,
                 routed, SLA computed, request and timeline event written, detail returned
  api-get        GET /api/v1/requests/ with the key: first page, 25 newest, cursor paging
  api-get-filter GET /api/v1/requests/?status=in_progress&service_code=lampadaire
  open311-post   POST /open311/v2/requests.json (form, api_key), when Open311 answers
  open311-get    GET /open311/v2/requests.json, when Open311 answers
Throughput is measured with -c8 (the workers kept busy), latency with -c2 (one connection per
worker: service time without queueing). Modes are interleaved over rounds, medians kept; the
POSTs' ratios to the baseline are taken within each round (the machine's speed drifts between
rounds, less within one).
Before each run the town is brought back to exactly 100,000 requests (seeded once by set-based
SQL, in the five previous years; the previous run's intake deleted).

    make bench                  # or: .venv/bin/python bench/intake.py --duration 10 --rounds 3
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402
    HOST,
    load_options,
    medians,
    run_header,
    server_environment,
    wait_ready,
)
from bench.routing import free_port  # noqa: E402

SEEDED = 100_000
SEED_MARK = "bench-seed-2"  # channel_detail of the seeded requests (a new mark reseeds)
KEY_NAME = "Banc d'essai intake"
SCHEMA = "bench"
ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.intake_settings",
    # Throttling stays on (its cache counters are part of every call) but never answers 429.
    "RELAIS_API_KEY_RATE": "100000000/min",
    "RELAIS_API_CLIENT_RATE": "100000000/min",
}

POST_BODIES = [
    {
        "service_code": "nid-de-poule",
        "description": "Trou profond devant le numéro {n}, dangereux pour les vélos.",
        "latitude": "45.5{n:04d}",
        "longitude": "-73.7{n:04d}",
        "attributes": {"taille": size},
    }
    for size in ("petit", "moyen", "grand")
] + [
    {
        "service_code": "lampadaire",
        "description": "Lampadaire éteint depuis trois soirs, coin de la rue {n}.",
        "address": "{n}, boulevard des Laurentides",
    }
]

SEED_SQL = """
INSERT INTO crm_servicerequest (
    number, kind, status, priority, description, address, latitude, longitude, channel,
    channel_detail, attributes, media_url, sla_due_at, first_contact_resolution,
    cancellation_reason, tracking_token, created_at, updated_at, resolved_at, closed_at,
    department_id, service_type_id)
SELECT
    s.year || '-' || lpad(s.n::text, 6, '0'),
    'request',
    s.status,
    (ARRAY['low', 'normal', 'normal', 'high'])[1 + s.g %% 4],
    'Requête de la ville ' || s.g,
    CASE WHEN s.pothole THEN '' ELSE s.g || ', boulevard des Laurentides' END,
    CASE WHEN s.pothole THEN 45.5 + (s.g %% 1000) / 5000.0 END,
    CASE WHEN s.pothole THEN -73.8 + (s.g %% 997) / 5000.0 END,
    (ARRAY['phone', 'web', 'app', 'counter', 'email'])[1 + s.g %% 5],
    %(mark)s,
    CASE WHEN s.pothole
        THEN jsonb_build_object('taille', (ARRAY['petit', 'moyen', 'grand'])[1 + s.g %% 3])
        ELSE '{}'::jsonb END,
    '',
    s.created + interval '2 days',
    false,
    '',
    md5(s.g::text || random()::text),
    s.created,
    s.created,
    CASE WHEN s.status IN ('resolved', 'closed') THEN s.created + interval '3 days' END,
    CASE WHEN s.status = 'closed' THEN s.created + interval '4 days' END,
    CASE WHEN s.pothole THEN %(roads)s ELSE %(lights)s END,
    CASE WHEN s.pothole THEN %(pothole)s ELSE %(streetlight)s END
FROM (
    SELECT g,
           %(first_year)s + (g - 1) / %(per_year)s AS year,
           1 + (g - 1) %% %(per_year)s AS n,
           g %% 2 = 0 AS pothole,
           (ARRAY['new', 'assigned', 'in_progress', 'on_hold', 'resolved', 'closed', 'closed',
                  'closed'])[1 + (g / 2) %% 8] AS status,
           make_timestamptz(%(first_year)s + (g - 1) / %(per_year)s, 1, 1, 8, 0, 0,
                            'America/Toronto')
               + ((g - 1) %% %(per_year)s) * interval '26 minutes' AS created
    FROM generate_series(1, %(count)s) AS g
) AS s
"""

SEED_EVENTS_SQL = """
INSERT INTO crm_requestevent (kind, visibility, from_status, to_status, message, data,
                              created_at, request_id)
SELECT 'created', 'public', '', 'new', '', jsonb_build_object('channel', channel),
       created_at, id
FROM crm_servicerequest WHERE channel_detail = %s
"""


def setup_town() -> str:
    """The catalog, the baseline table, exactly SEEDED requests, a fresh write key (returned)."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from crm.models import (
        ApiKey,
        Department,
        ServiceAttribute,
        ServiceCategory,
        ServiceRequest,
        ServiceType,
    )
    from crm.services import api_key_create

    with schema_context(SCHEMA):
        roads, _ = Department.objects.get_or_create(
            code="travaux-publics", defaults={"name_fr": "Travaux publics", "name_en": "Roads"}
        )
        lights, _ = Department.objects.get_or_create(
            code="eclairage", defaults={"name_fr": "Éclairage public", "name_en": "Lighting"}
        )
        category, _ = ServiceCategory.objects.get_or_create(
            code="voirie", defaults={"name_fr": "Voirie", "name_en": "Streets"}
        )
        pothole, created = ServiceType.objects.get_or_create(
            code="nid-de-poule",
            defaults={
                "name_fr": "Nid-de-poule",
                "name_en": "Pothole",
                "category": category,
                "department": roads,
                "kind": "request",
                "sla_value": 2,
                "sla_unit": "days",
                "location_required": True,
            },
        )
        if created:
            size = ServiceAttribute.objects.create(
                service_type=pothole,
                code="taille",
                label_fr="Taille du trou",
                label_en="Size",
                datatype="singlevaluelist",
                required=True,
            )
            for order, key in enumerate(("petit", "moyen", "grand")):
                size.values.create(key=key, name_fr=key.capitalize(), name_en=key, order=order)
        streetlight, _ = ServiceType.objects.get_or_create(
            code="lampadaire",
            defaults={
                "name_fr": "Lampadaire éteint",
                "name_en": "Streetlight out",
                "category": category,
                "department": lights,
                "kind": "request",
                "sla_value": 16,
                "sla_unit": "hours",
                "location_required": True,
            },
        )

        first_year = timezone.localdate().year - 5
        with transaction.atomic(), connection.cursor() as cursor:
            seeded = ServiceRequest.objects.filter(channel_detail=SEED_MARK)
            reseed = (
                seeded.count() != SEEDED or seeded.filter(created_at__year__lt=first_year).exists()
            )
            keep = [] if reseed else [SEED_MARK]
            # The messages written for the requests filed by the benchmarks go with them.
            cursor.execute(
                "DELETE FROM crm_notification WHERE request_id IN (SELECT id FROM "
                "crm_servicerequest WHERE NOT (channel_detail = ANY(%s)))",
                [keep],
            )
            cursor.execute(
                "DELETE FROM crm_requestsubscription WHERE request_id IN (SELECT id FROM "
                "crm_servicerequest WHERE NOT (channel_detail = ANY(%s)))",
                [keep],
            )
            # Their deferred foreign-key checks run now: a table with pending checks cannot be
            # altered below.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # The timeline is append-only (a trigger); only this bench's own rows are removed.
            cursor.execute(
                "ALTER TABLE crm_requestevent DISABLE TRIGGER crm_requestevent_append_only"
            )
            cursor.execute(
                "DELETE FROM crm_requestevent WHERE request_id IN (SELECT id FROM "
                "crm_servicerequest WHERE NOT (channel_detail = ANY(%s)))",
                [keep],
            )
            cursor.execute(
                "ALTER TABLE crm_requestevent ENABLE TRIGGER crm_requestevent_append_only"
            )
            cursor.execute(
                "DELETE FROM crm_servicerequest WHERE NOT (channel_detail = ANY(%s))", [keep]
            )
            cursor.execute("DELETE FROM crm_requestcounter")
            if reseed:
                started = time.perf_counter()
                cursor.execute(
                    SEED_SQL,
                    {
                        "mark": SEED_MARK,
                        "roads": roads.pk,
                        "lights": lights.pk,
                        "pothole": pothole.pk,
                        "streetlight": streetlight.pk,
                        "first_year": first_year,
                        "per_year": SEEDED // 5,
                        "count": SEEDED,
                    },
                )
                cursor.execute(SEED_EVENTS_SQL, [SEED_MARK])
                print(
                    f"seeded {SEEDED:,} requests and their events in "
                    f"{time.perf_counter() - started:.1f} s",
                    flush=True,
                )
            # The town's counters carry on after the seeded numbers, as after an import.
            cursor.execute(
                "INSERT INTO crm_requestcounter (year, last_number) SELECT year, count(*) FROM "
                "(SELECT split_part(number, '-', 1)::int AS year FROM crm_servicerequest) AS n "
                "GROUP BY year"
            )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE crm_servicerequest")
            cursor.execute("VACUUM ANALYZE crm_requestevent")
        assert ServiceRequest.objects.count() == SEEDED
        ApiKey.objects.filter(name=KEY_NAME).delete()
        key = api_key_create(actor=None, name=KEY_NAME, scope="write")[1]
    connection.close()
    return key


def lua_string(text: str) -> str:
    """A Lua long string: raw UTF-8, no escapes (LuaJIT has no \\u escape)."""
    assert "]==]" not in text
    return f"[==[{text}]==]"


def lua_script(method: str, headers: dict[str, str], bodies: list[str]) -> str:
    """A wrk script: the method, headers, bodies in turn, and the latency percentiles (µs)."""
    lines = [f"wrk.method = {lua_string(method)}"]
    lines += [f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items()]
    if bodies:
        lines.append("local bodies = {" + ", ".join(lua_string(b) for b in bodies) + "}")
        lines.append("local i = 0")
        lines.append("request = function()")
        lines.append("  i = i + 1")
        lines.append("  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])")
        lines.append("end")
    lines += [
        "done = function(summary, latency, requests)",
        '  for _, p in ipairs({50, 95, 99}) do io.write(string.format("p%d %d\\n", p, '
        "latency:percentile(p))) end",
        "end",
    ]
    return "\n".join(lines) + "\n"


def json_bodies(count: int = 40) -> list[str]:
    bodies = []
    for n in range(count):
        template = POST_BODIES[n % len(POST_BODIES)]
        body = {k: (v.format(n=n + 1) if isinstance(v, str) else v) for k, v in template.items()}
        bodies.append(json.dumps(body, ensure_ascii=False))
    return bodies


def open311_bodies(key: str, count: int = 40) -> list[str]:
    from urllib.parse import urlencode

    bodies = []
    for n in range(count):
        fields = {"api_key": key, "description": f"Trou devant le numéro {n + 1}."}
        if n % 2:
            fields |= {"service_code": "lampadaire", "address_string": f"{n + 1}, rue Principale"}
        else:
            fields |= {
                "service_code": "nid-de-poule",
                "lat": f"45.5{n:04d}",
                "long": f"-73.7{n:04d}",
                "attribute[taille]": ("petit", "moyen", "grand")[n % 3],
            }
        bodies.append(urlencode(fields))
    return bodies


def modes(key: str) -> dict[str, dict]:
    auth = {"Authorization": f"Api-Key {key}"}
    json_type = {"Content-Type": "application/json"}
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    return {
        "baseline": {"path": "/bench/baseline/", "method": "POST", "headers": json_type,
                     "bodies": json_bodies(), "connections": 8, "status": 201},
        "api-post": {"path": "/api/v1/requests/", "method": "POST", "headers": auth | json_type,
                     "bodies": json_bodies(), "connections": 8, "status": 201},
        "api-get": {"path": "/api/v1/requests/", "method": "GET", "headers": auth,
                    "bodies": [], "connections": 2, "status": 200},
        "api-get-filter": {
            "path": "/api/v1/requests/?status=in_progress&service_code=lampadaire",
            "method": "GET", "headers": auth, "bodies": [], "connections": 2, "status": 200},
        "open311-post": {"path": "/open311/v2/requests.json", "method": "POST",
                         "headers": form_type, "bodies": open311_bodies(key), "connections": 8,
                         "status": 201, "optional": True},
        "open311-get": {"path": "/open311/v2/requests.json", "method": "GET", "headers": {},
                        "bodies": [], "connections": 2, "status": 200, "optional": True},
    }  # fmt: skip


def probe(port: int, mode: dict) -> int:
    body = mode["bodies"][0].encode() if mode["bodies"] else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{mode['path']}",
        data=body,
        method=mode["method"],
        headers={"Host": HOST, **mode["headers"]},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wrk(port: int, mode: dict, seconds: int, script: Path) -> dict[str, float]:
    completed = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{mode['connections']}",
            f"-d{seconds}s",
            "-s",
            str(script),
            "-H",
            f"Host: {HOST}",
            f"http://127.0.0.1:{port}{mode['path']}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    output = completed.stdout
    if "Non-2xx" in output or "Socket errors" in output or completed.stderr:
        raise RuntimeError(f"errors under load on {mode['path']}:\n{output}{completed.stderr}")
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    for percentile, micros in re.findall(r"^p(\d+) (\d+)$", output, re.MULTILINE):
        result[f"p{percentile}_ms"] = int(micros) / 1000
    return result


def main() -> None:
    args = load_options(__doc__)
    env = server_environment(ENV)
    key = setup_town()

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
        env=env,
        cwd=ROOT,
    )
    samples: dict[str, list[dict[str, float]]] = {}
    try:
        wait_ready(port, host=HOST, path="/api/v1/services/")
        with tempfile.TemporaryDirectory() as scratch:
            scripts, selected = {}, {}
            for name, mode in modes(key).items():
                status = probe(port, mode)
                if status != mode["status"]:
                    if mode.get("optional"):
                        print(f"{name}: skipped ({mode['path']} answered {status})", flush=True)
                        continue
                    raise RuntimeError(f"{name}: {mode['path']} answered {status}")
                script = Path(scratch) / f"{name}.lua"
                script.write_text(lua_script(mode["method"], mode["headers"], mode["bodies"]))
                scripts[name], selected[name] = script, mode
                wrk(port, mode, 2, script)  # warm-up: both workers load code and plans
            samples = {name: [] for name in selected}
            for round_number in range(1, args.rounds + 1):
                for name, mode in selected.items():
                    result = wrk(port, mode, args.duration, scripts[name])
                    samples[name].append(result)
                    print(
                        f"round {round_number} {name:<15} {result['rps']:8.0f} req/s  "
                        f"p50 {result['p50_ms']:6.1f} ms  p95 {result['p95_ms']:6.1f} ms",
                        flush=True,
                    )
    finally:
        server.terminate()
        server.wait(timeout=30)

    median = medians(samples)
    result: dict[str, object] = {
        **run_header(),
        "requests_in_town_before": SEEDED,
        "median": median,
        "samples": samples,
    }
    ratios = {}
    for name in ("api-post", "open311-post"):
        if name in samples:
            rounds = [
                mode["rps"] / base["rps"]
                for mode, base in zip(samples[name], samples["baseline"], strict=True)
            ]
            ratios[name] = rounds
            result[f"{name.replace('-', '_')}_vs_baseline"] = statistics.median(rounds)
            result[f"{name.replace('-', '_')}_vs_baseline_rounds"] = rounds
    print()
    for name, values in median.items():
        print(
            f"{name:<15} {values['rps']:8.0f} req/s  p50 {values['p50_ms']:6.1f} ms  "
            f"p95 {values['p95_ms']:6.1f} ms  (median of {args.rounds})"
        )
    for name, rounds in ratios.items():
        each = " · ".join(f"{ratio:.2f}" for ratio in rounds)
        print(f"{name} / baseline = {statistics.median(rounds):.2f} (rounds: {each})")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "intake.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
