"""django-tasks-db's db_worker, whose worker holds a lease and recovers abandoned tasks
(tenants/worker.py). `tenants` comes before `django_tasks_db` in SHARED_APPS, so this wins."""

from __future__ import annotations

import argparse
import os
from typing import Any

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as LibraryCommand
from django_tasks_db.management.commands.db_worker import valid_interval, valid_max_tasks

from shared_config.observability import set_role
from tenants.worker import LeasedWorker, LeaseTaken


class Command(LibraryCommand):
    help = (
        "Exécute les tâches de fond mises en file dans PostgreSQL. Chaque travailleur tient un "
        "bail (verrou consultatif) : les tâches d'un travailleur arrêté en cours de route sont "
        "remises en file, ou marquées en échec après --max-attempts essais."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--max-attempts",
            type=valid_max_tasks,
            default=3,
            help="essais d'une tâche dont le travailleur s'arrête avant la fin, avant l'échec "
            "(défaut : %(default)s)",
        )
        parser.add_argument(
            "--recovery-interval",
            type=valid_interval,
            default=30.0,
            help="secondes entre deux recherches de tâches abandonnées par un travailleur "
            "arrêté ; aussi au démarrage (défaut : %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        set_role("worker")
        self.configure_logging(options["verbosity"])
        reload = options["reload"]
        if reload and options["batch"]:
            reload = False
        queue_names = options["queue_name"].split(",")
        exclude = options["exclude_queues"]
        excluded_queue_names = exclude.split(",") if exclude else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")

        worker = LeasedWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded_queue_names,
            max_attempts=options["max_attempts"],
            recovery_interval=options["recovery_interval"],
        )
        try:
            if reload:
                if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                    worker.configure_signals()  # only the child process runs tasks
                run_with_reloader(worker.run)
            else:
                worker.configure_signals()
                worker.run()
        except LeaseTaken as error:
            raise CommandError(str(error)) from error
