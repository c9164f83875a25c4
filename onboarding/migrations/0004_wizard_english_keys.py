"""The wizard's stored keys in English, as the code names them: the steps a project has done
(`completed_steps`) and the keys of its saved staff rows (`staff`). Reversible. The audit's
past entries keep the step names they were written with: the audit is append-only."""

from typing import Any

from django.db import migrations

STEPS = {
    "identite": "identity",
    "profil": "profile",
    "forfait": "plan",
    "catalogue": "catalog",
    "personnel": "staff",
    "image": "branding",
    "revue": "review",
}
STAFF_KEYS = {
    "courriel": "email",
    "prenom": "first_name",
    "nom": "last_name",
    "role": "role",
    "langue": "language",
}


def _rename(apps: Any, steps: dict[str, str], staff_keys: dict[str, str]) -> None:
    project_model = apps.get_model("onboarding", "OnboardingProject")
    for project in project_model.objects.only("pk", "completed_steps", "staff").iterator():
        completed = [steps.get(step, step) for step in project.completed_steps]
        staff = [
            {staff_keys.get(key, key): value for key, value in row.items()}
            if isinstance(row, dict)
            else row
            for row in project.staff
        ]
        if (completed, staff) != (project.completed_steps, project.staff):
            project_model.objects.filter(pk=project.pk).update(
                completed_steps=completed, staff=staff
            )


def to_english(apps: Any, schema_editor: Any) -> None:
    _rename(apps, STEPS, STAFF_KEYS)


def to_french(apps: Any, schema_editor: Any) -> None:
    _rename(
        apps,
        {english: french for french, english in STEPS.items()},
        {english: french for french, english in STAFF_KEYS.items()},
    )


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0003_milestone_actor")]

    operations = [migrations.RunPython(to_english, to_french)]
