"""The tenant's CRM: catalog, information bank, citizens, requests, calendar, interactions."""

from crm.models.calendar import BusinessCalendar, ClosureDay, WorkingHours
from crm.models.catalog import (
    AttributeDatatype,
    Department,
    Priority,
    Sector,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceCategory,
    ServiceKind,
    ServiceType,
    SlaUnit,
)
from crm.models.citizens import Citizen, CitizenMerge, Consent, ConsentPurpose
from crm.models.faq import FaqArticle, FaqArticleVersion, FaqAudience, FaqStatus, Fold, fold_text
from crm.models.interactions import AccessAction, AccessLog, Interaction
from crm.models.requests import (
    OPEN_STATUSES,
    Channel,
    CrmSettings,
    EventKind,
    RequestCounter,
    RequestEvent,
    RequestStatus,
    RoutingRule,
    ServiceRequest,
    Visibility,
)

__all__ = [
    "OPEN_STATUSES",
    "AccessAction",
    "AccessLog",
    "AttributeDatatype",
    "BusinessCalendar",
    "Channel",
    "Citizen",
    "CitizenMerge",
    "ClosureDay",
    "Consent",
    "ConsentPurpose",
    "CrmSettings",
    "Department",
    "EventKind",
    "FaqArticle",
    "FaqArticleVersion",
    "FaqAudience",
    "FaqStatus",
    "Fold",
    "Interaction",
    "Priority",
    "RequestCounter",
    "RequestEvent",
    "RequestStatus",
    "RoutingRule",
    "Sector",
    "ServiceAttribute",
    "ServiceAttributeValue",
    "ServiceCategory",
    "ServiceKind",
    "ServiceRequest",
    "ServiceType",
    "SlaUnit",
    "Visibility",
    "WorkingHours",
    "fold_text",
]
