"""`make smoke`: the production stack on loopback, installed and driven as an IT team would.

PostgreSQL (the server of DATABASE_URL when it is set, else the embedded one), then the
runbook's installation: `migrate_schemas`, `collectstatic`, the host city, its catalog, a
partner town, an API key and the platform's operator; then gunicorn with
`deploy/gunicorn.conf.py`, the `db_worker`, an SMTP server on loopback and nginx with
`deploy/nginx.conf` (the same file: only its listen address, upstream and paths are replaced).
Everything is then asked through nginx, by Host header, as a TLS terminator in front of it
would: the base domain and both towns' pages, static files, Open311, the probes, a request
posted then read back (and its acknowledgement e-mailed by the worker), a cluster backup with
`pg_dump` restored into a new database, a town exported and restored under a new address, and
an upgrade with nothing to apply. Everything it started is stopped, also when a step fails.

Its own databases (`relais_smoke`, `relais_smoke_restore`) are dropped and made again on each
run; nothing else of the server is touched.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BASE_DOMAIN = "relais.localhost"
HOST_TOWN = f"laval.{BASE_DOMAIN}"
PARTNER_TOWN = f"levis.{BASE_DOMAIN}"
RESTORED_TOWN = f"levis-copie.{BASE_DOMAIN}"
DATABASE = "relais_smoke"
RESTORE_DATABASE = "relais_smoke_restore"
SERVICES_FILE = Path(__file__).resolve().parent / "smoke-services.json"


class SmokeFailure(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def step(message: str) -> None:
    print(f"--- {message}", flush=True)


# --- PostgreSQL ------------------------------------------------------------------------------


@dataclass
class Database:
    """Where the smoke's databases live and the client tools that match the server."""

    server_url: str  # any database of the server, to create the smoke's own
    bin_dir: Path | None  # pg_dump and pg_restore of the server's major version; None: PATH

    def url(self, name: str) -> str:
        parts = urllib.parse.urlsplit(self.server_url)
        return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))

    def tool(self, name: str) -> str:
        if self.bin_dir is not None:
            return str(self.bin_dir / name)
        found = shutil.which(name)
        if found is None:
            raise SmokeFailure(f"{name} introuvable (paquet postgresql-client)")
        return found

    def recreate(self, *names: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop(self, *names: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def scalar(self, name: str, sql: str) -> object:
        import psycopg

        with psycopg.connect(self.url(name)) as conn:
            row = conn.execute(sql).fetchone()
        return row[0] if row else None


def database() -> Database:
    given = os.environ.get("DATABASE_URL")
    if given:
        step(f"PostgreSQL : le serveur de DATABASE_URL ({urllib.parse.urlsplit(given).hostname})")
        return Database(server_url=given, bin_dir=None)
    step("PostgreSQL : le serveur intégré (.data/postgres)")
    sys.path.insert(0, str(ROOT))
    import pgserver

    from shared_config.embedded_db import embedded_database_url

    return Database(
        server_url=embedded_database_url(ROOT / ".data"),
        bin_dir=Path(pgserver.__file__).parent / "pginstall" / "bin",
    )


# --- Processes -------------------------------------------------------------------------------


@dataclass
class Stack:
    work: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
        """Run a management command to its end; its output, or SmokeFailure with it."""
        started = time.monotonic()
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        took = time.monotonic() - started
        if done.returncode != 0:
            raise SmokeFailure(
                f"manage.py {args[0]} a échoué ({done.returncode}) :\n{done.stdout}{done.stderr}"
            )
        print(f"    manage.py {args[0]} : {took:.1f} s", flush=True)
        return done.stdout

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.work / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own programs
            args,
            cwd=ROOT,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise SmokeFailure(f"{name} s'est arrêté ({process.returncode}) :\n{self.log(name)}")

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to every process group started, then SIGKILL to what is left after 20 s."""
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"    {name} ne s'arrête pas : SIGKILL", flush=True)
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def nginx_config(work: Path, *, listen: int, upstream: int, media: Path) -> Path:
    """deploy/nginx.conf with its listen address, upstream, log and media paths for loopback,
    inside a minimal main configuration. Each replaced line must be found exactly once: a
    change of the file that this does not follow fails the smoke instead of testing a copy."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "server web:8000;": f"server 127.0.0.1:{upstream};",
        "listen 80 default_server;": f"listen 127.0.0.1:{listen} default_server;",
        "/var/log/nginx/access.log": str(work / "nginx-access.log"),
        "alias /app/media/;": f"alias {media}/;",
    }
    for old, new in replacements.items():
        if site.count(old) != 1:
            raise SmokeFailure(f"deploy/nginx.conf : « {old} » attendu une fois")
        site = site.replace(old, new)
    (work / "relais.conf").write_text(site)
    temp = work / "nginx-temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = work / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/nginx-error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
        f"  scgi_temp_path {temp}/scgi;\n"
        f"  include {work}/relais.conf;\n"
        "}\n"
    )
    return main


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[bytes]]]:
    """A real SMTP server on loopback that keeps what it receives."""
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            received.append(envelope.original_content or b"")  # type: ignore[attr-defined]
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


# --- HTTP through nginx ----------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    port: int

    def request(
        self,
        method: str,
        host: str,
        path: str,
        *,
        https: bool = True,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": host, "Accept-Language": "fr"} | (headers or {})
        if https:
            # What the TLS terminator in front of nginx says (deploy/nginx.conf passes it on).
            sent["X-Forwarded-Proto"] = "https"
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, host: str, path: str, **kwargs: object) -> Answer:
        return self.request("GET", host, path, **kwargs)  # type: ignore[arg-type]

    def post_form(self, host: str, path: str, fields: dict[str, str]) -> Answer:
        return self.request(
            "POST",
            host,
            path,
            body=urllib.parse.urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


def wait_until(what: str, condition: Callable[[], bool], timeout: float, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in stack.processes:
            stack.alive(name)
        with suppress(OSError, http.client.HTTPException):
            if condition():
                return
        time.sleep(0.25)
    raise SmokeFailure(f"{what} : rien après {timeout:.0f} s")


class Checks:
    """Named checks; every failure is listed at the end, the run goes on where it can."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.count = 0

    def __call__(self, name: str, ok: bool, detail: object = "") -> bool:
        self.count += 1
        print(f"    {'ok ' if ok else 'ÉCHEC'} {name}" + ("" if ok else f" : {detail}"), flush=True)
        if not ok:
            self.failures.append(name)
        return ok


# --- The run ---------------------------------------------------------------------------------


def install(stack: Stack) -> str:
    """The runbook's installation; returns the partner's API key."""
    step("Installation (deploy/runbook.md)")
    stack.manage("migrate_schemas", "--noinput", "--executor=multiprocessing")
    stack.manage("collectstatic", "--noinput")
    stack.manage(
        "create_host_town",
        "--name=Ville de Laval",
        "--slug=laval",
        f"--domain={HOST_TOWN}",
        "--region=13",
        "--population=438366",
        f"--admin-email=admin@{HOST_TOWN}",
    )
    stack.manage(
        "import_open311_services",
        "--tenant=laval",
        str(SERVICES_FILE),
        "--department=travaux-publics",
        "--create-department=Travaux publics",
    )
    stack.manage(
        "onboard_municipality",
        "--name=Ville de Lévis",
        "--slug=levis",
        f"--domain={PARTNER_TOWN}",
        "--from=laval",
        "--all-catalog",
        f"--admin-email=admin@{PARTNER_TOWN}",
    )
    stack.manage("console_member", f"--email=operateur@{BASE_DOMAIN}")
    output = stack.manage("create_api_key", "--tenant=levis", "--name=Smoke", "--scope=write")
    return output.strip().splitlines()[-1]


def serve(stack: Stack, *, nginx_port: int) -> int:
    """Start the stack; returns gunicorn's own port (for Prometheus, which bypasses nginx)."""
    step("Démarrage : gunicorn, db_worker, nginx")
    app_port = free_port()
    stack.start(
        "gunicorn",
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "-c",
            "deploy/gunicorn.conf.py",
            "shared_config.wsgi:application",
        ],
        env=stack.env
        | {
            "GUNICORN_BIND": f"127.0.0.1:{app_port}",
            "GUNICORN_WORKERS": "2",
            # Inside the work folder, removed with it (gunicorn creates and empties it).
            "PROMETHEUS_MULTIPROC_DIR": str(stack.work / "metrics"),
        },
    )
    stack.start("db_worker", [PYTHON, "manage.py", "db_worker"])
    config = nginx_config(
        stack.work, listen=nginx_port, upstream=app_port, media=Path(stack.env["MEDIA_ROOT"])
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    checked = subprocess.run(  # noqa: S603
        [nginx, "-t", "-q", "-c", str(config)], capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        raise SmokeFailure(f"nginx -t : {checked.stderr}")
    stack.start("nginx", [nginx, "-c", str(config), "-g", "daemon off;"])
    client = Client(nginx_port)
    wait_until(
        "nginx puis gunicorn répondent",
        lambda: client.get(BASE_DOMAIN, "/healthz").status == 200,
        60,
        stack,
    )
    return app_port


def drive(stack: Stack, client: Client, check: Checks, api_key: str, mail: list[bytes]) -> str:
    """Ask everything through nginx; returns the number of the request posted."""
    step("Pages, par nom d'hôte")
    platform = client.get(BASE_DOMAIN, "/")
    check("le domaine de base répond", platform.status == 200, platform.status)
    laval = client.get(HOST_TOWN, "/")
    levis = client.get(PARTNER_TOWN, "/")
    check("Laval : accueil", laval.status == 200 and "Laval" in laval.text, laval.status)
    check("Lévis : accueil", levis.status == 200 and "Lévis" in levis.text, levis.status)
    check("Lévis ne montre pas Laval", "Ville de Laval" not in levis.text)
    english = client.get(PARTNER_TOWN, "/en/")
    check("Lévis en anglais", english.status == 200 and 'lang="en"' in english.text)
    unknown = client.get(f"inconnue.{BASE_DOMAIN}", "/")
    check("hôte inconnu : 404", unknown.status == 404, unknown.status)
    plain = client.get(PARTNER_TOWN, "/", https=False)
    check(
        "HTTP redirigé vers HTTPS",
        plain.status == 301 and plain.header("Location").startswith(f"https://{PARTNER_TOWN}/"),
        (plain.status, plain.header("Location")),
    )
    check("HSTS", "max-age=31536000" in levis.header("Strict-Transport-Security"))
    check("CSP", "frame-ancestors 'none'" in levis.header("Content-Security-Policy"))
    check(
        "témoin de session sécurisé",
        all("Secure" in cookie for cookie in levis.headers.get_all("Set-Cookie") or []),
    )

    step("Fichiers statiques")
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', levis.text)
    check("une feuille de style liée", bool(stylesheets), levis.text[:300])
    for path in stylesheets[:2]:
        check(f"{path} : nom haché", bool(re.search(r"\.[0-9a-f]{12}\.css$", path)))
        for encoding in ("br", "gzip"):
            answer = client.get(PARTNER_TOWN, path, headers={"Accept-Encoding": encoding})
            check(
                f"{path} ({encoding})",
                answer.status == 200 and answer.header("Content-Encoding") == encoding,
                (answer.status, answer.header("Content-Encoding")),
            )
            check(
                f"{path} : cache d'un an, immuable",
                "max-age=315360000" in answer.header("Cache-Control")
                and "immutable" in answer.header("Cache-Control"),
                answer.header("Cache-Control"),
            )

    step("Sondes")
    for host in (BASE_DOMAIN, HOST_TOWN, PARTNER_TOWN):
        for probe in ("/healthz", "/readyz"):
            answer = client.get(host, probe, https=False)
            check(f"{host}{probe}", answer.status == 200, (answer.status, answer.text[:200]))
    ready = client.get(PARTNER_TOWN, "/readyz", https=False).json()
    check("readyz : schéma de Lévis", ready.get("schema") == "levis", ready)

    step("Open311")
    services = client.get(PARTNER_TOWN, "/open311/v2/services.json")
    codes = [s.get("service_code") for s in services.json()] if services.status == 200 else []
    check("Lévis : le catalogue copié de Laval", "nid-de-poule" in codes, codes)
    posted = client.post_form(
        PARTNER_TOWN,
        "/open311/v2/requests.json",
        {
            "api_key": api_key,
            "service_code": "nid-de-poule",
            "lat": "46.8033",
            "long": "-71.1779",
            "description": "Trou profond devant l'école (essai de fumée).",
            "email": "citoyenne@exemple.qc.ca",
        },
    )
    check("POST requests.json : 201", posted.status == 201, (posted.status, posted.text[:300]))
    number = str(posted.json()[0]["service_request_id"]) if posted.status == 201 else ""
    read = client.get(PARTNER_TOWN, f"/open311/v2/requests/{number}.json")
    body = read.json() if read.status == 200 else [{}]
    check(
        "la requête relue",
        read.status == 200
        and body[0].get("service_code") == "nid-de-poule"
        and "essai de fumée" in body[0].get("description", ""),
        (read.status, read.text[:300]),
    )
    check(
        "Laval ne voit pas la requête de Lévis",
        client.get(HOST_TOWN, f"/open311/v2/requests/{number}.json").status == 404,
    )
    check(
        "Open311 sans clé : 403",
        client.post_form(
            PARTNER_TOWN, "/open311/v2/requests.json", {"service_code": "nid-de-poule"}
        ).status
        == 403,
    )
    step("Le db_worker envoie l'accusé de réception par SMTP")
    with suppress(SmokeFailure):
        wait_until(
            "accusé de réception",
            lambda: any(number.encode() in message for message in mail),
            60,
            stack,
        )
    check("accusé de réception reçu par le serveur SMTP", any(number.encode() in m for m in mail))
    return number


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        with suppress(ValueError):
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def _request_count(samples: str, town: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(samples)
        for sample in family.samples
        if sample.name == "relais_http_requests_total" and sample.labels.get("town") == town
    )


def observe(stack: Stack, client: Client, direct: Client, check: Checks, api_key: str) -> None:
    step("Journaux JSON, identifiant de requête, métriques")
    # A well-formed id of the client's own: nginx replaces it with its $request_id.
    sent = "client-id-0123456789"
    answer = client.get(PARTNER_TOWN, "/", headers={"X-Request-ID": sent})
    request_id = answer.header("X-Request-ID")
    check(
        "X-Request-ID donné par nginx",
        request_id != sent and bool(re.fullmatch(r"[0-9a-f]{32}", request_id)),
        request_id,
    )

    def logged() -> list[dict[str, Any]]:
        return [
            line
            for line in _json_lines((stack.work / "gunicorn.log").read_text(errors="replace"))
            if line.get("request_id") == request_id
        ]

    with suppress(SmokeFailure):
        wait_until("la ligne de journal de la requête", lambda: bool(logged()), 10, stack)
    lines = logged()
    check(
        "la ligne JSON de la requête (ville, route, statut, durée)",
        len(lines) == 1
        and lines[0].get("schema") == "levis"
        and lines[0].get("route") == "home"
        and lines[0].get("status") == 200
        and isinstance(lines[0].get("duration_ms"), float),
        lines,
    )

    def access_log() -> str:
        return (stack.work / "nginx-access.log").read_text(errors="replace")

    # nginx writes its line once the answer is sent: maybe after the client has read it.
    with suppress(SmokeFailure):
        wait_until("le journal de nginx", lambda: request_id in access_log(), 10, stack)
    check("le même identifiant dans le journal de nginx", request_id in access_log())
    check("journal de nginx sans adresse de courriel", "@" not in access_log())

    for place in ("Rue Saint-Louis", "Avenue Bégin"):
        client.post_form(
            PARTNER_TOWN,
            "/open311/v2/requests.json",
            {"api_key": api_key, "service_code": "graffiti", "address_string": place},
        )
    open311 = client.get(
        PARTNER_TOWN,
        "/open311/v2/requests.json?extensions=true",
        headers={"Accept-Encoding": "gzip"},
    )
    check(
        "Open311 compressé par nginx",
        open311.status == 200 and open311.header("Content-Encoding") == "gzip",
        open311.header("Content-Encoding"),
    )

    check("/metrics refusé par nginx", client.get(BASE_DOMAIN, "/metrics").status == 404)
    scrape = direct.get("10.0.0.7", "/metrics", https=False)
    check("/metrics pour Prometheus (gunicorn, en direct)", scrape.status == 200, scrape.status)
    before = _request_count(scrape.text, "levis")
    for _ in range(10):
        client.get(PARTNER_TOWN, "/")
    # Two workers share the ten requests; any of them answers the scrape with every worker's.
    counts = [
        _request_count(direct.get("10.0.0.7", "/metrics", https=False).text, "levis") - before
        for _ in range(4)
    ]
    check("chaque lecture compte les requêtes des deux travailleurs", counts == [10] * 4, counts)
    metrics = direct.get("10.0.0.7", "/metrics", https=False).text
    for name in ("relais_tasks_queued", "relais_outbox_pending", "relais_http_request_duration"):
        check(f"métrique {name}", name in metrics)


def backups(stack: Stack, db: Database, client: Client, check: Checks, number: str) -> None:
    step("Sauvegarde de la grappe (pg_dump) et restauration dans une autre base")
    dump = stack.work / "relais.dump"
    started = time.monotonic()
    subprocess.run(  # noqa: S603
        [db.tool("pg_dump"), "--format=custom", f"--file={dump}", db.url(DATABASE)], check=True
    )
    dumped = time.monotonic() - started
    subprocess.run(  # noqa: S603
        [db.tool("pg_restore"), "--no-owner", f"--dbname={db.url(RESTORE_DATABASE)}", str(dump)],
        check=True,
    )
    print(
        f"    pg_dump : {dumped:.1f} s, {dump.stat().st_size / 1e6:.1f} Mo ; "
        f"pg_restore : {time.monotonic() - started - dumped:.1f} s",
        flush=True,
    )
    restored = stack.env | {"DATABASE_URL": db.url(RESTORE_DATABASE)}
    requests = "SELECT count(*) FROM levis.crm_servicerequest"
    check(
        "la base restaurée a ses deux villes et les requêtes",
        db.scalar(RESTORE_DATABASE, "SELECT count(*) FROM tenants_municipality") == 2
        and db.scalar(RESTORE_DATABASE, requests) == db.scalar(DATABASE, requests) == 3,
    )
    # The restored cluster is a working installation: its migrations load and apply nothing.
    stack.manage("migrate_schemas", "--noinput", env=restored)

    step("Export d'une ville et restauration sous une nouvelle adresse")
    archive = stack.work / "levis.tar.gz"
    stack.manage("export_tenant", "--tenant=levis", f"--output={archive}")
    stack.manage(
        "restore_tenant", f"--input={archive}", "--slug=levis-copie", f"--domain={RESTORED_TOWN}"
    )
    # Served by the running workers within a second: routing changes reach them by NOTIFY.
    path = f"/open311/v2/requests/{number}.json"
    with suppress(SmokeFailure):
        wait_until(
            "la copie restaurée", lambda: client.get(RESTORED_TOWN, path).status == 200, 5, stack
        )
    copy = client.get(RESTORED_TOWN, path)
    check("la copie restaurée sert la requête", copy.status == 200, (copy.status, copy.text[:200]))


def upgrade(stack: Stack, client: Client, check: Checks) -> None:
    step("Mise à niveau, service en marche : une migration à appliquer à deux villes")
    # The last migration of crm undone in two towns: the release brings it.
    for town in ("laval", "levis"):
        stack.manage(
            "migrate_schemas",
            "crm",
            "0023_portal_answers_by_question",
            f"--schema={town}",
            "--noinput",
        )
    started = time.monotonic()
    output = stack.manage("migrate_schemas", "--noinput", "--executor=multiprocessing")
    print(f"    {time.monotonic() - started:.1f} s", flush=True)
    check("seules les deux villes en retard sont migrées", "2 à migrer" in output, output[-300:])
    output = stack.manage("migrate_schemas", "--noinput", "--executor=multiprocessing")
    check("ensuite, rien à migrer", "0 à migrer" in output, output[-300:])
    stack.manage("refill_spare_pool")  # the runbook's step after a release
    check("readyz après la mise à niveau", client.get(PARTNER_TOWN, "/readyz").status == 200)
    check("Lévis sert après la mise à niveau", client.get(PARTNER_TOWN, "/").status == 200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="garder le dossier de travail")
    options = parser.parse_args()
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        print("nginx est requis (Debian : apt-get install nginx-light)", file=sys.stderr)
        return 2
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="relais-smoke-"))
    check = Checks()
    stack: Stack | None = None
    db: Database | None = None
    try:
        db = database()
        db.recreate(DATABASE, RESTORE_DATABASE)
        with smtp_server() as (smtp_port, mail):
            env = {
                key: value
                for key, value in os.environ.items()
                # The production environment only: nothing of the caller's configuration.
                if not key.startswith(("RELAIS_", "GUNICORN_", "SENTRY_", "STRIPE_", "LOG_"))
                and key
                not in {
                    "DEBUG",
                    "SECRET_KEY",
                    "DATABASE_URL",
                    "EMAIL_URL",
                    "REDIS_URL",
                    "PROMETHEUS_MULTIPROC_DIR",
                    "DJANGO_SETTINGS_MODULE",
                }
            } | {
                "RELAIS_DOTENV": "",  # the production environment only, not the developer's .env
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": db.url(DATABASE),
                "RELAIS_BASE_DOMAIN": BASE_DOMAIN,
                "RELAIS_BEHIND_PROXY": "1",
                "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=10",
                "MEDIA_ROOT": str(work / "media"),
                "RELAIS_PRIVATE_ROOT": str(work / "private"),
                "RELAIS_EXPORT_DIR": str(work / "exports"),
                "RELAIS_SPARE_POOL_SIZE": "1",
            }
            stack = Stack(work=work, env=env)
            api_key = install(stack)
            nginx_port = free_port()
            app_port = serve(stack, nginx_port=nginx_port)
            client = Client(nginx_port)
            number = drive(stack, client, check, api_key, mail)
            observe(stack, client, Client(app_port), check, api_key)
            backups(stack, db, client, check, number)
            upgrade(stack, client, check)
    # Any error at all is a failed run whose logs and databases are kept for reading.
    except Exception as error:
        check("le déroulement", False, f"{type(error).__name__}: {error}")
    finally:
        if stack is not None:
            step("Arrêt")
            stack.stop()
            if check.failures:
                for name in stack.processes:
                    print(f"=== {name}.log\n{stack.log(name)}", file=sys.stderr)
        if db is not None and not check.failures:
            with suppress(Exception):
                db.drop(DATABASE, RESTORE_DATABASE)
        if not options.keep and not check.failures:
            shutil.rmtree(work, ignore_errors=True)
    took = time.monotonic() - started
    if check.failures:
        print(
            f"make smoke : {len(check.failures)} échec(s) sur {check.count}, {took:.0f} s ; "
            f"journaux dans {work}",
            file=sys.stderr,
        )
        return 1
    print(f"make smoke : {check.count} vérifications réussies en {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
