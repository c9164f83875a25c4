"""Every CRM table of Laval stays in Laval: Lévis sees none of its rows."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django_tenants.utils import schema_context

from crm.models import (
    AlertTopic,
    BusinessCalendar,
    ClosureDay,
    RequestAttachment,
    RoutingRule,
    SavedView,
)
from crm.roles import ADMINISTRATOR, Viewer
from crm.selectors import first_contact_resolution
from crm.services import (
    access_log_record,
    alert_publish,
    alert_subscriptions_set,
    citizen_create,
    citizen_merge,
    consent_record,
    faq_article_update,
    faq_consultation_record,
    faq_feedback_record,
    information_call_answer,
    request_add_note,
    request_subscribe,
    satisfaction_record,
)
from tests.factories import (
    ApiKeyFactory,
    DepartmentFactory,
    FaqArticleFactory,
    PrivacyIncidentFactory,
    SectorFactory,
    ServiceAttributeFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    StaffProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _fill_laval() -> None:
    agent = UserFactory(is_staff=True)
    attribute = ServiceAttributeFactory(datatype="singlevaluelist", choices=["a", "b"])
    service_type = attribute.service_type
    information = ServiceTypeFactory(kind="information", location_required=False, sla_value=None)
    sector = SectorFactory()
    RoutingRule.objects.create(sector=sector, service_type=None, department=DepartmentFactory())
    ClosureDay.objects.create(
        calendar=BusinessCalendar.objects.get(), date=date(2026, 12, 24), name="Veille"
    )
    kept = citizen_create(actor=None, email="kept@exemple.qc.ca")
    merged = citizen_create(actor=None, email="merged@exemple.qc.ca")
    consent_record(actor=None, citizen=kept, purpose="alerts", granted=True)
    citizen_merge(actor=agent, kept=kept, merged=merged)
    access_log_record(actor=agent, citizen=kept, action="view", purpose="Suivi")
    request = ServiceRequestFactory(
        actor=agent,
        service_type=service_type,
        channel="phone",
        address="1, rue A",
        sector=sector,
        citizen=kept,
    )
    request_add_note(actor=agent, service_request=request, message="Note", public=False)
    article = FaqArticleFactory(
        actor=agent,
        question_fr="Q",
        answer_fr="R",
        owner_department=service_type.department,
        service_types=[service_type],
    )
    faq_article_update(actor=agent, article=article, answer_fr="R2")
    faq_consultation_record(article=article, day=date(2026, 12, 1))
    resolved = ServiceRequestFactory(actor=agent, service_type=service_type, status="resolved")
    satisfaction_record(service_request=resolved, score=4, comment="Merci", language="fr")
    faq_feedback_record(article=article, helpful=False, language="fr")
    ApiKeyFactory(actor=agent, name="Intégration", scope="read")
    StaffProfileFactory(user=agent, role="agent")
    information_call_answer(
        actor=agent,
        channel="phone",
        summary="Question",
        faq_articles=[article],
        citizen=kept,
        service_type=information,
    )
    PrivacyIncidentFactory(created_by=agent)
    neighbour = citizen_create(actor=None, email="voisin@exemple.qc.ca")
    request_subscribe(citizen=neighbour, service_request=request)
    consent_record(actor=None, citizen=neighbour, purpose="alerts", granted=True, channel="email")
    topic = AlertTopic.objects.get(code="collectes")
    alert_subscriptions_set(citizen=neighbour, topics=[topic], sectors=[sector])
    alert_publish(
        actor=agent,
        viewer=Viewer(ADMINISTRATOR, user=agent),
        topic=topic,
        sectors=[sector],
        title_fr="Collecte reportée",
        body_fr="La collecte de lundi est reportée à mardi.",
    )
    SavedView.objects.create(user=agent, name="Mes urgences", query="priority=high")
    RequestAttachment.objects.create(
        request=request,
        file=ContentFile(b"%PDF-1.4 test", name="plan.pdf"),
        stored_name="plan.pdf",
        original_name="plan.pdf",
        content_type="application/pdf",
        size=13,
        uploaded_by=agent,
    )


def test_levis_sees_no_row_of_any_crm_table_of_laval(laval, levis):
    crm_models = list(apps.get_app_config("crm").get_models())
    with schema_context(laval.schema_name):
        _fill_laval()
        filled = {model.__name__ for model in crm_models if model.objects.exists()}
    # Every table got at least one row in Laval (the test covers them all)...
    assert filled == {model.__name__ for model in crm_models}
    with schema_context(levis.schema_name):
        # ...and in Lévis only the rows every town starts with (its own settings and calendar).
        leftovers = {
            model.__name__: model.objects.count() for model in crm_models if model.objects.exists()
        }
        assert leftovers == {
            "AlertTopic": 4,
            "BusinessCalendar": 1,
            "WorkingHours": 5,
            "CrmSettings": 1,
        }


def test_first_contact_resolution_costs_one_query(in_laval, django_assert_num_queries):
    information = ServiceTypeFactory(kind="information", location_required=False, sla_value=None)
    for channel in ("phone", "web", "counter", "email"):
        information_call_answer(
            actor=None, channel=channel, summary="x", faq_articles=[], service_type=information
        )
    for by in ("channel", "department", "month"):
        with django_assert_num_queries(1):
            rows = first_contact_resolution(start=date(2026, 1, 1), end=date(2027, 1, 1), by=by)
        assert rows
