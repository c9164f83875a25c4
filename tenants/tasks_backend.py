"""django-tasks-db's backend, storing with each task the id of the request that queued it.

The id goes in the row's `args_kwargs` document beside the arguments (`request_id`), which the
library ignores when it calls the task; the worker (`tenants.worker`) puts it back on the log
lines of the task. A task queued outside a request (a schedule, a command) has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.compat import normalize_json

from shared_config.observability import request_id_var

if TYPE_CHECKING:
    from django_tasks_db.models import DBTaskResult


class DatabaseBackend(LibraryDatabaseBackend):
    def _task_to_db_task(self, task: Any, args: Any, kwargs: Any) -> DBTaskResult:
        from django_tasks_db.models import DBTaskResult

        document: dict[str, Any] = {"args": args, "kwargs": kwargs}
        request_id = request_id_var.get()
        if request_id:
            document["request_id"] = request_id
        return DBTaskResult.objects.create(
            id=self._get_id(),
            args_kwargs=normalize_json(document),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )

    async def _atask_to_db_task(self, task: Any, args: Any, kwargs: Any) -> DBTaskResult:
        from asgiref.sync import sync_to_async

        return await sync_to_async(self._task_to_db_task)(task, args, kwargs)
