"""The staff workspace (`/personnel/`, `/en/staff/`): the 311 desk, queues, the request page,
the information bank and catalog for administrators, dashboards and exports.

An interface like the APIs: views parse a form, call one selector or service with the caller's
`Viewer`, and render; the rules live in `crm/services`, `crm/selectors` and `crm/roles.py`.
Every page works without JavaScript; htmx (served from our static files) only spares reloads.
"""
