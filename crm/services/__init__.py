"""Writes of the CRM, by entity. Each is keyword-only, validates before writing, runs in one
transaction and writes its timeline or audit row in that same transaction.

Callers import from here (`from crm.services import request_create`); the modules say where each
write lives.
"""

# Imports of a town's data are writes too: the console reaches them here.
from crm.cloning import CloneReport, catalog_copy_from  # noqa: F401
from crm.imports.open311_services import ImportReport as Open311ImportReport  # noqa: F401
from crm.imports.open311_services import open311_services_import  # noqa: F401
from crm.imports.requests import FIELDS as REQUEST_IMPORT_FIELDS  # noqa: F401
from crm.imports.requests import (  # noqa: F401
    RequestImportError,
    RequestsImportReport,
    requests_import,
)
from crm.services.access import *  # noqa: F403
from crm.services.alerts import *  # noqa: F403
from crm.services.api_keys import *  # noqa: F403
from crm.services.attachments import *  # noqa: F403
from crm.services.bank import *  # noqa: F403
from crm.services.catalog import *  # noqa: F403
from crm.services.citizens import *  # noqa: F403
from crm.services.desk import *  # noqa: F403
from crm.services.faq import *  # noqa: F403
from crm.services.interactions import *  # noqa: F403
from crm.services.notifications import *  # noqa: F403
from crm.services.photos import *  # noqa: F403
from crm.services.portal import *  # noqa: F403
from crm.services.queues import *  # noqa: F403
from crm.services.requests import *  # noqa: F403
from crm.services.staff import *  # noqa: F403
from crm.services.workspace_settings import *  # noqa: F403
