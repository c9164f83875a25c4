"""The onboarding wizard as one table: each step's key, URL slug, label, form, the project
fields it saves and the check its values pass before they are saved. The console's views build
their pages from it and `project_step_save` saves through it; nothing else lists the steps.

Keys are English, in code and in a project's stored progress (`completed_steps`). Slugs are the
French URL segments (`/console/projets/<pk>/etapes/<slug>/`), kept as they are: URLs are a
contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_tenants.utils import schema_exists

from onboarding import forms
from onboarding.errors import OnboardingError, OnboardingErrorCode
from onboarding.models import OnboardingProject
from onboarding.selectors import host_catalog_outline
from tenants.models import Domain, Municipality
from tenants.validators import validate_brand_colour, validate_hostname, validate_slug

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Check = Callable[[OnboardingProject, Mapping[str, Any]], None]


@dataclass(frozen=True)
class WizardStep:
    key: str  # in code, and in the project's completed_steps
    slug: str  # in the step's URL
    label: StrOrPromise
    fields: frozenset[str]  # the project fields the step saves; no other is accepted
    form: type[forms.WizardForm] | None  # None: the review, a summary without a form
    # What the values must pass beyond the model's own validation, checked with the project
    # locked; raises ValidationError (by field) or OnboardingError.
    check: Check

    def initial(self, project: OnboardingProject) -> dict[str, Any]:
        """The step's saved values: what its form shows when the wizard resumes."""
        return {name: getattr(project, name) for name in sorted(self.fields)}


def identity_check(*, slug: str, domain: str, project: OnboardingProject | None) -> None:
    """Refuse a slug or domain that a town, or another open project, already uses."""
    errors: dict[str, list[str]] = {}
    try:
        validate_slug(slug)
    except ValidationError as error:
        errors["slug"] = error.messages
    try:
        validate_hostname(domain)
    except ValidationError as error:
        errors["domain"] = error.messages
    if domain == settings.RELAIS_BASE_DOMAIN:
        errors["domain"] = [_("Le domaine de base est celui de la plateforme, pas d'une ville.")]
    others = OnboardingProject.objects.exclude(status=OnboardingProject.Status.FAILED)
    if project is not None:
        others = others.exclude(pk=project.pk)
    others = others.filter(municipality__isnull=True)
    if "slug" not in errors and (
        Municipality.objects.filter(slug=slug).exists()
        or schema_exists(slug.replace("-", "_"))
        or others.filter(slug=slug).exists()
    ):
        errors["slug"] = [
            _("L'identifiant « {slug} » est déjà pris par une municipalité ou un projet.").format(
                slug=slug
            )
        ]
    if "domain" not in errors and (
        Domain.objects.filter(domain=domain).exists() or others.filter(domain=domain).exists()
    ):
        errors["domain"] = [
            _("Le domaine « {domain} » est déjà utilisé par une municipalité ou un projet.").format(
                domain=domain
            )
        ]
    if errors:
        raise ValidationError(errors)


def _check_identity(project: OnboardingProject, values: Mapping[str, Any]) -> None:
    identity_check(
        slug=str(values["slug"]).strip().lower(),
        domain=str(values["domain"]).strip().lower(),
        project=project,
    )


_DEPARTMENT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _check_catalog(project: OnboardingProject, values: Mapping[str, Any]) -> None:
    """The chosen service types and department codes must exist at the host / be valid."""
    codes = values.get("service_type_codes")
    outline = host_catalog_outline(project=project)
    known_departments = {department.code for department in outline}
    known_types = {t.code for department in outline for t in department.service_types}
    if codes is not None:
        unknown = sorted(set(codes) - known_types)
        if unknown:
            raise ValidationError(
                {
                    "service_type_codes": _("Types inconnus chez la ville hôte : {codes}.").format(
                        codes=", ".join(unknown)
                    )
                }
            )
        if values.get("copy_catalog") and not codes:
            raise ValidationError(
                {"service_type_codes": _("Choisissez au moins un type de requête à copier.")}
            )
    department_map = values.get("department_map") or {}
    bad = sorted(set(department_map) - known_departments)
    if bad:
        raise ValidationError(
            {
                "department_map": _("Services inconnus chez la ville hôte : {codes}.").format(
                    codes=", ".join(bad)
                )
            }
        )
    for target in department_map.values():
        if not _DEPARTMENT_CODE.match(target):
            raise ValidationError(
                {
                    "department_map": _(
                        "« {code} » n'est pas un code de service valide : lettres minuscules, "
                        "chiffres, traits d'union ou de soulignement."
                    ).format(code=target)
                }
            )


def _check_branding(project: OnboardingProject, values: Mapping[str, Any]) -> None:
    validate_brand_colour(str(values["primary_colour"]))


def _check_review(project: OnboardingProject, values: Mapping[str, Any]) -> None:
    missing = steps_missing(project)
    if missing:
        raise OnboardingError(
            OnboardingErrorCode.STEPS_MISSING,
            _("Terminez d'abord ces étapes : {steps}.").format(
                steps=", ".join(str(step.label) for step in missing)
            ),
        )


def _no_check(project: OnboardingProject, values: Mapping[str, Any]) -> None:
    """The form and the model's validation are all the step needs."""


STEPS: tuple[WizardStep, ...] = (
    WizardStep(
        key="identity",
        slug="identite",
        label=_lazy("Identité et domaine"),
        fields=frozenset({"name", "slug", "domain"}),
        form=forms.IdentityForm,
        check=_check_identity,
    ),
    WizardStep(
        key="profile",
        slug="profil",
        label=_lazy("Population et région"),
        fields=frozenset({"population", "region"}),
        form=forms.ProfileForm,
        check=_no_check,
    ),
    WizardStep(
        key="plan",
        slug="forfait",
        label=_lazy("Forfait"),
        fields=frozenset({"plan"}),
        form=forms.PlanForm,
        check=_no_check,
    ),
    WizardStep(
        key="catalog",
        slug="catalogue",
        label=_lazy("Catalogue et banque d'information"),
        fields=frozenset({"copy_catalog", "include_faq", "service_type_codes", "department_map"}),
        form=forms.CatalogForm,
        check=_check_catalog,
    ),
    WizardStep(
        key="staff",
        slug="personnel",
        label=_lazy("Personnel"),
        fields=frozenset({"administrator_email", "staff"}),
        form=forms.StaffForm,
        check=_no_check,
    ),
    WizardStep(
        key="branding",
        slug="image",
        label=_lazy("Image et vie privée"),
        fields=frozenset(
            {"display_name", "primary_colour", "privacy_officer_name", "privacy_officer_email"}
        ),
        form=forms.BrandingForm,
        check=_check_branding,
    ),
    WizardStep(
        key="review",
        slug="revue",
        label=_lazy("Revue"),
        fields=frozenset(),
        form=None,
        check=_check_review,
    ),
)
BY_KEY = {step.key: step for step in STEPS}
BY_SLUG = {step.slug: step for step in STEPS}
IDENTITY = BY_KEY["identity"]  # the step a project starts with (project_start)
REVIEW = BY_KEY["review"]  # done only once every other step is; provisioning needs it


def next_step(step: WizardStep) -> WizardStep | None:
    index = STEPS.index(step)
    return STEPS[index + 1] if index + 1 < len(STEPS) else None


def steps_missing(project: OnboardingProject) -> list[WizardStep]:
    """The steps before the review that the project has not done."""
    return [
        step for step in STEPS if step is not REVIEW and step.key not in project.completed_steps
    ]
