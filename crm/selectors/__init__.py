"""Reads of the CRM, by entity: each returns what a screen or an API needs in a constant number
of queries. Callers import from here (`from crm.selectors import request_list`)."""

from crm.selectors.alerts import *  # noqa: F403
from crm.selectors.api_keys import *  # noqa: F403
from crm.selectors.bank import *  # noqa: F403
from crm.selectors.catalog import *  # noqa: F403
from crm.selectors.catalog_editing import *  # noqa: F403
from crm.selectors.citizens import *  # noqa: F403
from crm.selectors.dashboards import *  # noqa: F403
from crm.selectors.desk import *  # noqa: F403
from crm.selectors.faq import *  # noqa: F403
from crm.selectors.interactions import *  # noqa: F403
from crm.selectors.portal import *  # noqa: F403
from crm.selectors.queues import *  # noqa: F403
from crm.selectors.reports import *  # noqa: F403
from crm.selectors.request_page import *  # noqa: F403
from crm.selectors.requests import *  # noqa: F403
from crm.selectors.staff import *  # noqa: F403
from crm.selectors.town import *  # noqa: F403
