"""Who is calling, and what each role may see: the one home of the CRM's role rules.

Roles: municipal administrator (superuser or administrator profile), 311 agent, supervisor and
department staff (their department only), citizen (a signed-in account linked to a Citizen: its
own requests only), integrations by API key (read, or read and write), and the public. Staff
accounts without a profile get no more than the public. The published register (Open311's
reads, and the portal's public map) is what anyone may read: requests of public types without
personal data.

Every interface (REST, Open311, the staff workspace, the portal) derives its caller's `Viewer`
here and hands it to the selectors and services, which apply these rules.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from crm.models import ApiKey, Channel, Citizen, Department, FaqAudience, FaqStatus, StaffRole
from tenants.accounts.models import User
from tenants.accounts.second_factor import session_may_act_as_staff

ADMINISTRATOR = StaffRole.ADMINISTRATOR.value
AGENT = StaffRole.AGENT.value
SUPERVISOR = StaffRole.SUPERVISOR.value
DEPARTMENT = StaffRole.DEPARTMENT.value
CITIZEN = "citizen"
KEY = "key"
PUBLIC = "public"
PUBLISHED = "published"

STAFF_ROLES = frozenset({ADMINISTRATOR, AGENT, SUPERVISOR, DEPARTMENT})
# Roles that see every request and may see citizens' personal data.
TOWN_WIDE_ROLES = frozenset({ADMINISTRATOR, AGENT})
# Roles confined to their own department's requests.
DEPARTMENT_ROLES = frozenset({SUPERVISOR, DEPARTMENT})
# Roles that give a request to a department or a person (a supervisor within their own
# department: crm.services.request_dispatch); department staff work what they are given.
DISPATCH_ROLES = frozenset({ADMINISTRATOR, AGENT, SUPERVISOR})
# Roles that always use a second factor; a town may require it of every staff role
# (CrmSettings.staff_second_factor_required, on by default).
SECOND_FACTOR_ROLES = frozenset({ADMINISTRATOR, SUPERVISOR})


def second_factor_required(role: str, *, all_staff: bool) -> bool:
    """Whether a staff role must sign in with a TOTP device, given the town's setting."""
    return role in SECOND_FACTOR_ROLES or (all_staff and role in STAFF_ROLES)


@dataclass(frozen=True)
class Viewer:
    role: str
    user: Any = None
    department: Department | None = None
    citizen: Citizen | None = None
    api_key: ApiKey | None = None
    # A staff account whose session lacks the second factor its role needs.
    second_factor_missing: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def role_label(self) -> str:
        """The staff role's name in the interface's language ("" for others)."""
        return str(StaffRole(self.role).label) if self.is_staff else ""

    @property
    def confined_to_department(self) -> bool:
        """Reads (and assigns within) their own department's requests only."""
        return self.role in DEPARTMENT_ROLES

    @property
    def can_write_as_key(self) -> bool:
        return self.api_key is not None and self.api_key.can_write

    @property
    def sees_personal_data(self) -> bool:
        return self.role in TOWN_WIDE_ROLES or self.role == SUPERVISOR

    @property
    def sees_internal_types(self) -> bool:
        """Staff also see (and file) the service types that are not offered to the public."""
        return self.is_staff

    @property
    def faq_audience(self) -> str:
        """Staff also find the articles written for agents."""
        return FaqAudience.AGENTS if self.is_staff else FaqAudience.PUBLIC

    def intake_channel(self, chosen: str | None = None) -> str:
        """The channel of a request this caller files: the one staff say the citizen used
        (the phone unless they say otherwise), the app (or the web) for a citizen, the API for
        a key, the web for anyone else (the portal)."""
        if self.is_staff:
            return chosen or Channel.PHONE
        if self.role == CITIZEN:  # the app, unless they say they used the portal
            return Channel.WEB if chosen == Channel.WEB else Channel.APP
        if self.role == KEY:
            return Channel.API
        return Channel.WEB

    def admitted(self, roles: Collection[str], *, writes: bool) -> bool:
        """Whether this caller is among `roles`; a key writes only with the write scope."""
        if self.role == KEY and writes:
            return KEY in roles and self.can_write_as_key
        return self.role in roles

    def refused_for_second_factor(self, roles: Collection[str]) -> bool:
        """A staff account refused only because its session skipped the second factor."""
        return self.second_factor_missing and self.role not in roles

    @property
    def follows_requests(self) -> bool:
        """Staff and a request's own citizen see its tracking token."""
        return self.is_staff or self.role == CITIZEN

    @property
    def sets_priority(self) -> bool:
        return self.is_staff

    @property
    def dispatches_requests(self) -> bool:
        """May give a request to a department or a person (the REST API's assignment, the
        staff workspace's request page and its queues' bulk assignment)."""
        return self.role in DISPATCH_ROLES

    @property
    def edits_bank(self) -> bool:
        """Writes, publishes and archives the information bank's articles; every staff role
        reads them."""
        return self.role == ADMINISTRATOR

    @property
    def edits_catalog(self) -> bool:
        """Edits the service catalog, the routing, the host's updates and the town's settings."""
        return self.role == ADMINISTRATOR

    @property
    def bank_statuses(self) -> tuple[str, ...]:
        """The article statuses this caller finds in the bank: its editors also drafts and
        archived articles, everyone else what is published."""
        if self.edits_bank:
            return tuple(FaqStatus.values)
        return (FaqStatus.PUBLISHED,)


PUBLISHED_REGISTER = Viewer(PUBLISHED)


def viewer_of(request: HttpRequest) -> Viewer:
    """The caller's role, computed once per request. `request.auth` (the REST framework's) is
    the API key or the session a token stands for, when there is one."""
    cached = getattr(request, "_relais_viewer", None)
    if cached is not None:
        return cached
    viewer = _viewer(request)
    setattr(request, "_relais_viewer", viewer)  # noqa: B010  (a per-request memo)
    return viewer


def _viewer(request: HttpRequest) -> Viewer:
    # The selectors read with these rules: they import this module, not the other way round.
    from crm.selectors import citizen_of_account, crm_settings, staff_role_of

    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return Viewer(KEY, api_key=auth)
    user = request.user
    if not user or not user.is_authenticated or not user.is_active:
        return Viewer(PUBLIC)
    held = staff_role_of(user=user)
    if held is not None:
        # The same door as the other staff areas: a session that skipped the account's second
        # factor (or a staff account without one) has no staff rights here either.
        session = auth if isinstance(auth, SessionBase) else request.session
        required = second_factor_required(
            held.role, all_staff=crm_settings().staff_second_factor_required
        )
        if not session_may_act_as_staff(session, user, required=required):
            return Viewer(PUBLIC, user=user, second_factor_missing=True)
        return Viewer(held.role, user=user, department=held.department)
    if user.is_staff:  # a staff account without a profile: no more than the public
        return Viewer(PUBLIC, user=user)
    citizen = citizen_of_account(user=user)
    if citizen is None:
        return Viewer(PUBLIC, user=user)
    return Viewer(CITIZEN, user=user, citizen=citizen)


def acting_user(request: HttpRequest) -> User:
    """The signed-in account behind a staff page (the admin and the staff areas admit no one
    else: their door refuses anonymous visitors before any view). Raises PermissionDenied for
    an anonymous request that reached a view anyway, rather than acting as nobody."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user
