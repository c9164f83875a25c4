"""Every route of both URL configurations, found by walking them, with the access it requires.

The isolation probe calls each route found here; a route missing from ACCESS fails the probe,
so that a new page or endpoint is classified (and therefore probed) the day it is added.
Relais's own routes are named one by one; families that libraries generate (the admin's per
model, allauth's sign-in and headless flows) are classified by pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern

TOWN_URLCONF = "shared_config.urls_tenants"
PLATFORM_URLCONF = "shared_config.urls_public"


class Access(Enum):
    # Anyone may call it; on another town it answers with that town's content (or a refusal).
    PUBLIC = "public"
    # Needs an account of the host it is called on (a session, an app token or an API key).
    SIGNED_IN = "signed_in"
    # Needs a staff account of the host (the admin, the console).
    STAFF = "staff"


# By route name (shell-style patterns, first match wins); unnamed routes by their pattern.
ACCESS: list[tuple[str, Access]] = [
    # Pages and sign-in flows open to all.
    ("home", Access.PUBLIC),
    # The citizen portal: answers and following a request (by its number and secret token).
    ("portal:*", Access.PUBLIC),
    ("account_login", Access.PUBLIC),
    ("account_logout", Access.PUBLIC),
    ("account_signup", Access.PUBLIC),
    ("account_inactive", Access.PUBLIC),
    ("account_email_verification_sent", Access.PUBLIC),
    ("account_confirm_login_code", Access.PUBLIC),
    ("account_reset_password*", Access.PUBLIC),
    ("password_reset_confirm", Access.PUBLIC),
    ("password_reset_complete", Access.PUBLIC),
    ("mfa_authenticate", Access.PUBLIC),  # the second step of a sign-in in progress
    # Account pages of a signed-in person.
    ("account_email", Access.SIGNED_IN),
    ("account_change_password", Access.SIGNED_IN),
    ("account_set_password", Access.SIGNED_IN),
    ("account_*reauthenticat*", Access.SIGNED_IN),
    ("mfa_*", Access.SIGNED_IN),
    # allauth's headless API (the mobile app): its sign-in flows, then the session's own.
    ("headless:*:config", Access.PUBLIC),
    ("headless:*:account:login", Access.PUBLIC),
    ("headless:*:account:signup", Access.PUBLIC),
    ("headless:*:account:confirm_login_code", Access.PUBLIC),
    ("headless:*:account:request_password_reset", Access.PUBLIC),
    ("headless:*:account:reset_password", Access.PUBLIC),
    ("headless:*:account:verify_email", Access.PUBLIC),
    ("headless:*:account:resend_email_verification_code", Access.PUBLIC),
    ("headless:*:account:verify_phone", Access.PUBLIC),
    ("headless:*:account:resend_phone_verification_code", Access.PUBLIC),
    ("headless:*:mfa:authenticate", Access.PUBLIC),
    ("headless:*", Access.SIGNED_IN),
    # Open311: GETs are public (no personal data); POST needs a write key of the town.
    ("open311-discovery", Access.PUBLIC),
    ("open311-services", Access.PUBLIC),
    ("open311-service", Access.PUBLIC),
    ("open311-requests", Access.PUBLIC),
    ("open311-request", Access.PUBLIC),
    ("open311-token", Access.PUBLIC),
    ("open311-not-found", Access.PUBLIC),
    # REST API: the catalog, the information bank and the documentation are public.
    ("api-services", Access.PUBLIC),
    ("api-service", Access.PUBLIC),
    ("api-faq", Access.PUBLIC),
    ("api-schema", Access.PUBLIC),
    ("api-docs", Access.PUBLIC),
    ("pattern:api/^", Access.PUBLIC),  # any other /api/ path: the API's 404
    ("api-requests", Access.SIGNED_IN),
    ("api-request", Access.SIGNED_IN),
    ("api-request-status", Access.SIGNED_IN),
    ("api-request-assignment", Access.SIGNED_IN),
    ("api-request-reply", Access.SIGNED_IN),
    ("api-request-note", Access.SIGNED_IN),
    ("api-citizens", Access.SIGNED_IN),
    ("api-citizen", Access.SIGNED_IN),
    ("api-interactions", Access.SIGNED_IN),
    ("api-my-requests", Access.SIGNED_IN),
    ("api-my-preferences", Access.SIGNED_IN),
    # Staff areas (signing out is open to all: it only ends the caller's own session). The
    # admin's routes are made per registered model: the family is classified as a whole.
    ("admin:logout", Access.PUBLIC),
    ("admin:*", Access.STAFF),
    ("auth_user_password_change", Access.STAFF),
    ("console:home", Access.STAFF),
    ("console:projects", Access.STAFF),
    ("console:project_new", Access.STAFF),
    ("console:project_detail", Access.STAFF),
    ("console:project_step", Access.STAFF),
    ("console:project_provision", Access.STAFF),
    ("console:project_golive", Access.STAFF),
    ("console:town", Access.STAFF),
    ("console:town_lifecycle", Access.STAFF),
    ("console:town_export", Access.STAFF),
    ("console:town_export_download", Access.STAFF),
    ("console:town_delete", Access.STAFF),
    ("console:town_import_services", Access.STAFF),
    ("console:town_import_requests", Access.STAFF),
    ("console:audit", Access.STAFF),
    ("console:members", Access.STAFF),
    # The console's billing pages (operators), and Stripe's signed webhook (no session: its
    # signature is the credential; 404 while Stripe is off).
    ("billing:*", Access.STAFF),
    ("stripe_webhook", Access.PUBLIC),
    # The staff workspace: every page and action needs a staff account of the town.
    ("desk:*", Access.STAFF),
]


@dataclass(frozen=True)
class Route:
    urlconf: str
    name: str  # "namespace:name", or "pattern:<text>" for an unnamed route
    levels: tuple[object, ...]  # the pattern of each level, outermost first

    @property
    def text(self) -> str:
        return "".join(str(level) for level in self.levels)

    def access(self) -> Access | None:
        for pattern, access in ACCESS:
            if fnmatchcase(self.name, pattern):
                return access
        return None

    def path(self, values: dict[str, str]) -> str:
        """A concrete path, each parameter replaced by `values[name]`."""
        parts = []
        for level in self.levels:
            if isinstance(level, LocalePrefixPattern):
                parts.append(level.language_prefix)
            elif isinstance(level, RoutePattern):
                # Converters may have dashes in their names (`<yyyy-mm:month>`).
                pattern = r"<(?:[\w-]+:)?(\w+)>"
                parts.append(re.sub(pattern, lambda m: values[m.group(1)], str(level)))
            elif isinstance(level, RegexPattern):
                text = str(level).lstrip("^").rstrip("$")
                text = re.sub(
                    r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", lambda m: values[m.group(1)], text
                )
                parts.append(text.replace("\\.", ".").replace("\\", ""))
            else:  # pragma: no cover - a new kind of pattern must be taught to this walker
                raise TypeError(f"unknown pattern {level!r}")
        return "/" + "".join(parts)


def _walk(
    resolver: URLResolver, levels: tuple[object, ...], namespace: str
) -> Iterator[tuple[tuple[object, ...], str | None, str]]:
    for entry in resolver.url_patterns:
        here = (*levels, entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, here, inner)
        elif isinstance(entry, URLPattern):
            yield here, entry.name, namespace


def all_routes(urlconf: str) -> list[Route]:
    """Every route of `urlconf`; an unnamed one is called `<namespace>pattern:<its pattern>`."""
    routes = []
    for levels, name, namespace in _walk(get_resolver(urlconf), (), ""):
        text = "".join(str(level) for level in levels)
        full_name = f"{namespace}{name}" if name else f"{namespace}pattern:{text}"
        routes.append(Route(urlconf=urlconf, name=full_name, levels=levels))
    return routes
