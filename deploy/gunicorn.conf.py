"""gunicorn configuration: gunicorn -c deploy/gunicorn.conf.py shared_config.wsgi:application"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Sync workers: django-tenants binds the schema to the thread's connection.
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
# No preload: each worker opens its own persistent database connection after the fork.
preload_app = False
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") else None
# Path without its query string, no referrer: a search can carry a phone number or an e-mail,
# a referrer a tracking token (Law 25: no personal data in logs). Address, time, method, path,
# protocol, status, bytes, duration.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# The path itself, without the secret some carry (a reset link, a tracking token).
logger_class = "shared_config.log_paths.PrivateAccessLogger"
# Recent gunicorn releases open a control socket in the user's home by default, one path for every
# gunicorn of that user on the host: several instances (or a smoke test beside the service)
# would fight over it. Relais is managed by signals and its process manager, not by it.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus (/metrics): every worker writes its request counts and latencies to files in this
# folder, and a scrape answered by any worker adds them all up. Set before the workers start
# (they inherit it); emptied when gunicorn starts, so a restart starts the counters at zero
# (Prometheus handles counter resets).
# A worker recycled after max_requests leaves its files (Prometheus needs its counts): their
# number grows until the next start, each one read by every scrape.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="relais-metrics-"
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR


def on_starting(server: object) -> None:
    folder = Path(METRICS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def on_exit(server: object) -> None:
    if _OWN_METRICS_DIR:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
