"""The demo towns' CRM (`make run`): a catalog, an information bank, staff of each role,
citizens and 90 days of requests and interactions, built through the services like real data."""

from crm.demo.build import (
    LAVAL,
    LEVIS,
    CrmDemoCounts,
    DemoPlace,
    DemoStaffMember,
    build_crm_demo,
    demo_citizen_email,
    demo_staff,
)

__all__ = [
    "LAVAL",
    "LEVIS",
    "CrmDemoCounts",
    "DemoPlace",
    "DemoStaffMember",
    "build_crm_demo",
    "demo_citizen_email",
    "demo_staff",
]
