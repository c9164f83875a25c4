"""The staff workspace, the catalog for administrators: service types, their questions
and routing, the host city's updates."""
