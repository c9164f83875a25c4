"""The staff workspace: dashboards and monthly reports for supervisors and administrators."""
