"""Alerts, for supervisors and administrators: publish one (it reaches the subscribers of its
topic in its sectors, by their channel, in their language) and see the latest."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from crm import selectors, services
from crm.desk.access import staff_required
from crm.desk.alerts.forms import AlertForm
from crm.desk.navigation import ALERT_ROLES
from crm.desk.once import SUBMISSION_FIELD, claimed
from crm.desk.rendering import desk_render
from crm.errors import CrmError
from crm.roles import Viewer, acting_user


@require_http_methods(["GET", "POST"])
@staff_required(ALERT_ROLES)
def index(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    """The publishing form above the latest alerts. A double submission publishes once."""
    status = 200
    if request.method == "POST":
        form = AlertForm(request.POST, has_sectors=selectors.alert_sectors().exists())
        with claimed(request, str(request.POST.get(SUBMISSION_FIELD, ""))) as claim:
            if not claim.first:
                return HttpResponseRedirect(claim.done_url or request.path)
            if form.is_valid():
                try:
                    alert = services.alert_publish(
                        actor=acting_user(request), viewer=viewer, **form.service_fields()
                    )
                except CrmError as error:
                    field = error.field if error.field in form.fields else None
                    form.add_error(field, error.message)
                else:
                    done = reverse("desk:alerts")
                    claim.done(done)
                    reached = alert.notifications.count()
                    messages.success(
                        request,
                        ngettext(
                            "Alerte publiée : {count} message envoyé aux abonnés.",
                            "Alerte publiée : {count} messages envoyés aux abonnés.",
                            reached,
                        ).format(count=reached),
                    )
                    return HttpResponseRedirect(done)
        status = 400
    else:
        form = AlertForm(has_sectors=selectors.alert_sectors().exists())
    return desk_render(
        request,
        viewer,
        "desk/alerts/index.html",
        {"form": form, "alerts": selectors.alerts_recent()},
        section="alerts",
        status=status,
    )
