"""The REST API (`/api/v1/` on each town's host): JSON only, with an OpenAPI schema."""
