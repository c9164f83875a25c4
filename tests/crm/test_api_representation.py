"""The API's request fields are written out by hand (crm/api/rest/serializers.py) for speed:
they must give exactly what DRF's generic path gives for the fields declared, same keys in the
same order, same values, for staff and for everyone else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context
from rest_framework import serializers

from crm.api.rest.serializers import RequestDetailOut, RequestOut
from crm.models import ServiceRequest
from tests.factories import ServiceAttributeFactory, ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _generic(serializer: type[RequestOut], instance: ServiceRequest, context: dict) -> dict:
    data = dict(serializers.Serializer.to_representation(serializer(context=context), instance))
    if not context.get("staff"):
        for name in RequestOut.STAFF_ONLY:
            data.pop(name, None)
    return data


def _requests() -> list[ServiceRequest]:
    attribute = ServiceAttributeFactory(
        service_type__code="nid-de-poule", code="taille", required=True, choices=["petit"]
    )
    with_everything = ServiceRequestFactory(
        service_type=attribute.service_type,
        latitude="45.5700001",
        longitude="-73.69",
        description="Trou « profond »",
        media_url="https://exemple.ca/photo.jpg",
    )
    plain = ServiceRequestFactory(service_type__location_required=False, address="")
    with_everything.assignee = UserFactory(email="col@laval.ca", is_staff=True)
    with_everything.duplicate_of = plain
    with_everything.channel_detail = "Voilà!"
    with_everything.save()
    return [
        ServiceRequest.objects.select_related(
            "service_type", "department", "assignee", "duplicate_of"
        ).get(pk=pk)
        for pk in (with_everything.pk, plain.pk)
    ]


@pytest.mark.parametrize("staff", [True, False])
def test_the_written_out_fields_are_drf_s_own(laval, staff):
    with schema_context(laval.schema_name):
        for instance in _requests():
            context: dict[str, Any] = {"staff": staff}
            fast = RequestOut(instance, context=context).data
            assert list(fast) == list(_generic(RequestOut, instance, context))
            assert fast == _generic(RequestOut, instance, context)

            events = instance.events.order_by("created_at", "id")
            context["events"] = list(events if staff else events.filter(visibility="public"))
            detail = RequestDetailOut(instance, context=context).data
            assert list(detail) == list(_generic(RequestDetailOut, instance, context))
            assert detail == _generic(RequestDetailOut, instance, context)
            assert detail["timeline"][0]["kind"] == "created"


def test_coordinates_keep_six_decimals_as_text(laval):
    with schema_context(laval.schema_name):
        instance = _requests()[0]
        data = RequestOut(instance, context={}).data
    assert instance.latitude == Decimal("45.570000")
    assert data["latitude"] == "45.570000"
    assert data["longitude"] == "-73.690000"
