from __future__ import annotations

import factory

from tenants.accounts.models import User

TEST_PASSWORD = "mot-de-passe-de-test"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"personne{n}@exemple.qc.ca")
    first_name = "Camille"
    last_name = "Tremblay"
    password = factory.django.Password(TEST_PASSWORD)
