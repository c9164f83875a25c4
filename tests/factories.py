from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from crm.services import (
    api_key_create,
    faq_article_create,
    request_change_status,
    request_create,
    staff_role_set,
)
from tenants.accounts.models import User
from tenants.accounts.services import account_email_verify
from tenants.models import Municipality

TEST_PASSWORD = "mot-de-passe-de-test"


class UserFactory(factory.django.DjangoModelFactory):
    """An account a town (or the platform) created: its address is verified. A citizen's own
    sign-up is made through allauth's pages instead."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.qc.ca")
    first_name = "Camille"
    last_name = "Tremblay"
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def verified(obj: User, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted is not False:
            account_email_verify(user=obj)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Department"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"service-{n}")
    name_fr = factory.Sequence(lambda n: f"Service municipal {n}")
    name_en = factory.Sequence(lambda n: f"Municipal department {n}")


class ServiceCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.ServiceCategory"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"categorie-{n}")
    name_fr = factory.Sequence(lambda n: f"Catégorie {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.ServiceType"

    code = factory.Sequence(lambda n: f"type-{n}")
    name_fr = factory.Sequence(lambda n: f"Nid-de-poule {n}")
    name_en = factory.Sequence(lambda n: f"Pothole {n}")
    category = factory.SubFactory(ServiceCategoryFactory)
    department = factory.SubFactory(DepartmentFactory)
    kind = "request"
    sla_value = 2
    sla_unit = "days"
    location_required = True


class ServiceAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.ServiceAttribute"
        skip_postgeneration_save = True

    service_type = factory.SubFactory(ServiceTypeFactory)
    code = factory.Sequence(lambda n: f"champ_{n}")
    label_fr = factory.Sequence(lambda n: f"Question {n}")
    label_en = factory.Sequence(lambda n: f"Question {n} (en)")
    datatype = "string"
    required = False

    @factory.post_generation
    def choices(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        for order, key in enumerate(extracted or []):
            self.values.create(key=key, name_fr=key.capitalize(), name_en=key, order=order)


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Sector"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"secteur-{n}")
    name_fr = factory.Sequence(lambda n: f"Secteur {n}")


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Citizen"

    first_name = "Camille"
    last_name = "Tremblay"
    email = factory.Sequence(lambda n: f"citoyen{n}@exemple.qc.ca")
    phone = factory.Sequence(lambda n: f"450555{n:04d}")


class PrivacyIncidentFactory(factory.django.DjangoModelFactory):
    """An incident recorded through the register's service, so it has its first version."""

    class Meta:
        model = "crm.PrivacyIncident"

    title = "Réponse envoyée au mauvais citoyen"
    information_concerned = "Nom, adresse et description d'une requête."
    circumstances = "Une réponse publique a été envoyée à l'adresse d'un autre citoyen."
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    discovered_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=8))
    persons_concerned = 1
    created_by = factory.SubFactory(UserFactory, is_staff=True, is_superuser=True)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        from crm.privacy import incident_create

        return incident_create(actor=kwargs.pop("created_by"), **kwargs)


class StaffProfileFactory(factory.django.DjangoModelFactory):
    """A staff account of the town and its role, given by crm.services.staff_role_set as the
    admin and the onboarding import give it. The account is on `.user`; call inside the town's
    schema. Department staff and supervisors need a `department`."""

    class Meta:
        model = "crm.StaffProfile"

    user = factory.SubFactory(UserFactory, is_staff=True)
    role = "agent"
    department = None

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return staff_role_set(**kwargs)


def _required_answers(service_type: Any) -> dict[str, object]:
    """A valid answer to each required question of `service_type`: its first choice, or a
    plain value of the question's type."""
    plain = {"number": "1", "datetime": "2026-01-01T00:00:00Z"}
    answers: dict[str, object] = {}
    for attribute in service_type.attributes.filter(required=True).order_by("order", "pk"):
        first = attribute.values.order_by("order", "pk").values_list("key", flat=True).first()
        if attribute.datatype == "singlevaluelist":
            answers[attribute.code] = first
        elif attribute.datatype == "multivaluelist":
            answers[attribute.code] = [first]
        else:
            answers[attribute.code] = plain.get(attribute.datatype, "Réponse")
    return answers


class ServiceRequestFactory(factory.django.DjangoModelFactory):
    """A request made by crm.services.request_create, as every channel makes one: numbered in
    the town's yearly sequence, routed, with its SLA due time and its `created` event. `now`
    dates it (the number's year included). Call inside the town's schema.

    By default it is phoned in at an address, with a valid answer to each required question of
    its type (its first choice). `status=` then moves it along the workflow through
    request_change_status (to `closed` by way of `resolved`), at `status__at` (default: `now`).
    """

    class Meta:
        model = "crm.ServiceRequest"
        skip_postgeneration_save = True

    actor = None
    service_type = factory.SubFactory(ServiceTypeFactory)
    channel = "phone"
    address = "12, rue des Érables"
    attributes = factory.LazyAttribute(lambda request: _required_answers(request.service_type))

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return request_create(**kwargs)

    @factory.post_generation
    def status(obj: Any, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if not create or not extracted:
            return
        at = kwargs.get("at") or obj.created_at
        steps = ["resolved", "closed"] if extracted == "closed" else [extracted]
        for step in steps:
            request_change_status(actor=None, service_request=obj, status=step, now=at)
        obj.refresh_from_db()


class FaqArticleFactory(factory.django.DjangoModelFactory):
    """A published public article of the information bank, made by
    crm.services.faq_article_create so it has its first version. `service_types=[...]` links
    it to types. Call inside the town's schema."""

    class Meta:
        model = "crm.FaqArticle"

    actor = None
    question_fr = factory.Sequence(lambda n: f"Question {n}")
    answer_fr = "Réponse."
    question_en = factory.Sequence(lambda n: f"Question {n} (en)")
    answer_en = "Answer."
    status = "published"
    audience = "public"
    owner_department = factory.SubFactory(DepartmentFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return faq_article_create(**kwargs)


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An integration's key, made by crm.services.api_key_create: only its digest is stored,
    so the key itself, which the service hands back once, is kept on `.secret`. Call inside the
    town's schema."""

    class Meta:
        model = "crm.ApiKey"

    actor = None
    name = factory.Sequence(lambda n: f"Intégration {n}")
    scope = "write"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        api_key, secret = api_key_create(**kwargs)
        api_key.secret = secret
        return api_key


class OnboardingProjectFactory(factory.django.DjangoModelFactory):
    """An onboarding project of the test database's host city (Laval), in the public schema,
    written as it stands after the wizard steps given in `completed_steps`. It is a row, not
    the wizard: no milestone and no audit entry; a test of starting a project goes through
    onboarding.services or the console."""

    class Meta:
        model = "onboarding.OnboardingProject"

    host = factory.LazyFunction(lambda: Municipality.objects.get(slug="laval"))
    name = factory.Sequence(lambda n: f"Ville d'Essai {n}")
    slug = factory.Sequence(lambda n: f"essai-{n}")
    domain = factory.LazyAttribute(lambda project: f"{project.slug}.localhost")
    region = factory.LazyAttribute(lambda project: project.host.region)
