from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from tenants.accounts.models import User
from tenants.accounts.services import account_email_verify

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
