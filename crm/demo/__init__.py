"""The demo town's CRM (`make run`): a catalog, an information bank, staff, citizens and a year of
requests and interactions, built through the services like real data."""

from crm.demo.build import CrmDemoCounts, build_crm_demo

__all__ = ["CrmDemoCounts", "build_crm_demo"]
