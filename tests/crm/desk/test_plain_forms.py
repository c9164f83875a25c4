"""The workspace's forms and queue rows rendered in Python write what Django's templates write:
same elements, attributes, selected options, errors and descriptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django import forms
from django.test.html import parse_html
from django.utils import translation

from crm.desk.plain_forms import (
    PlainDateInput,
    PlainForm,
    PlainHiddenInput,
    PlainSelect,
    PlainTextInput,
)
from crm.desk.queues.table import PageText

CHOICES = [("", "Tous"), ("a", "Ouvertes <&>"), ("b", "Fermées « toutes »")]
GROUPED = [("Groupe", [("x", "X"), ("y", "Y")]), ("z", "Z")]


def _fields(select, text, hidden, date):
    return {
        "status": forms.ChoiceField(label="Statut", choices=CHOICES, required=False, widget=select),
        "grouped": forms.ChoiceField(label="Groupé?", choices=GROUPED, widget=select),
        "message": forms.CharField(
            label="Message", max_length=5, required=False, widget=text, help_text="Au citoyen."
        ),
        "token": forms.CharField(required=False, widget=hidden),
        "start": forms.DateField(label="Reçues du", required=False, widget=date),
    }


class DjangoForm(forms.Form):
    pass


DjangoForm.base_fields = _fields(forms.Select, forms.TextInput, forms.HiddenInput, None)
DjangoForm.base_fields["start"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FastForm(PlainForm):
    pass


FastForm.base_fields = _fields(PlainSelect, PlainTextInput, PlainHiddenInput, PlainDateInput())


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"status": "a", "grouped": "y", "message": "Bonjour", "token": "t<1>", "start": "2026-13"},
        {"status": "b", "grouped": "z", "message": "ok", "token": "", "start": "2026-12-01"},
    ],
)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_plain_forms_write_what_djangos_templates_write(data, language):
    with translation.override(language):
        django_form = DjangoForm(data, auto_id="filtre-%s", initial={"start": "2026-11-01"})
        fast_form = FastForm(data, auto_id="filtre-%s", initial={"start": "2026-11-01"})
        django_form.is_valid()
        fast_form.is_valid()
        for name in DjangoForm.base_fields:
            expected = str(django_form[name].as_field_group())
            written = str(fast_form[name].as_field_group())
            assert parse_html(written) == parse_html(expected), name
            assert parse_html(str(fast_form[name])) == parse_html(str(django_form[name])), name


def test_errors_are_listed_and_described_as_django_does():
    form = FastForm({"grouped": "nope", "message": "trop long"}, auto_id="filtre-%s")
    assert not form.is_valid()

    html = str(form["message"].as_field_group())

    assert '<ul class="errorlist" id="filtre-message_error">' in html
    assert 'aria-describedby="filtre-message_helptext filtre-message_error"' in html
    assert 'aria-invalid="true"' in html


def test_ages_and_moments_read_as_a_person_says_them():
    now = datetime(2026, 12, 4, 19, 5, tzinfo=UTC)
    with translation.override("fr"):
        text = PageText(now)
        ages = [
            text.age(now - delta)
            for delta in (
                timedelta(seconds=20),
                timedelta(minutes=1),
                timedelta(minutes=59),
                timedelta(hours=2, minutes=30),
                timedelta(days=1),
                timedelta(days=3, hours=23),
                timedelta(seconds=-30),  # a clock a little ahead: never a negative age
            )
        ]
        moment = text.moment(now)
    with translation.override("en"):
        english = PageText(now).age(now - timedelta(days=2))

    assert ages == [
        "0 minute",
        "1 minute",
        "59 minutes",
        "2 heures",
        "1 jour",
        "3 jours",
        "0 minute",
    ]
    assert moment == "4 Déc 2026 14:05"  # the town's zone (America/Montreal)
    assert english == "2 days"
