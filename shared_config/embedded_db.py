"""The embedded PostgreSQL used when DATABASE_URL is unset.

The `pgserver` wheel ships PostgreSQL binaries; the cluster lives under `.data/postgres` and is
left running between commands (the next command reuses it in about 0.1 s). `make db-stop`
stops it. Nothing here runs when DATABASE_URL is set.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

DATABASE_NAME = "relais"


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded server and return a URL for the `relais` database."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir / "postgres"
        was_running = (pgdata / "postmaster.pid").exists()
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    # DATABASE_NAME is a constant of this module, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    if not was_running:
        print(
            f"Relais : PostgreSQL intégré démarré dans {pgdata} (arrêt : make db-stop).",
            file=sys.stderr,
        )
    return str(server.get_uri(DATABASE_NAME))


def stop_embedded_database(data_dir: Path) -> None:
    """Stop the embedded server if it runs (used by `make db-stop`)."""
    pgdata = data_dir / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        print("Relais : le PostgreSQL intégré ne tourne pas.")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver import _commands

        server = pgserver.get_server(pgdata, cleanup_mode=None)
    # pgserver defines its command wrappers at import time, invisible to the type checker.
    _commands.pg_ctl(  # type: ignore[attr-defined]
        ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user
    )
    print(f"Relais : PostgreSQL intégré arrêté ({pgdata}).")


def restart_embedded_database(data_dir: Path, *, mode: str = "fast") -> None:
    """Restart the embedded server in place (same socket, same data) and wait until it accepts
    connections. `mode` is pg_ctl's: "fast" ends every session cleanly, "immediate" stops the
    server the way a crash would (the restart then replays the write-ahead log)."""
    pgdata = data_dir / "postgres"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver import _commands

        server = pgserver.get_server(pgdata, cleanup_mode=None)
    # pg_ctl keeps the options the server was started with (socket directory, no TCP).
    _commands.pg_ctl(  # type: ignore[attr-defined]
        ["-w", "-t", "60", "-m", mode, "-l", str(server.log), "restart"],
        pgdata=pgdata,
        user=server.system_user,
    )
