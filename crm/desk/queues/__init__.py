"""The staff workspace: queues: filters, saved views, bulk actions, SLA badges, CSV export."""
