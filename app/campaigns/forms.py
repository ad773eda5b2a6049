"""Campaign forms."""

from __future__ import annotations

import re

from flask_babel import pgettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.i18n import _, _l, language_name

_TARGET_LINE = re.compile(r"^\s*([A-Za-z]{2})\s+([a-z][a-z0-9_]*)\s+(\d+(?:[.,]\d+)?)\s*$")


def parse_target_lines(text: str) -> dict[str, dict[str, float]]:
    """Parse lines "KZ inv_unit 3" into {"KZ": {"inv_unit": 3}}; ValueError names the bad line."""
    out: dict[str, dict[str, float]] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _TARGET_LINE.match(line)
        if not match:
            raise ValueError(_("Line %(n)s: write a country code, an indicator id and a level, e.g. "
                               "“KZ inv_unit 3”.", n=number))
        code, indicator, level = match.groups()
        value = float(level.replace(",", "."))
        out.setdefault(code.upper(), {})[indicator] = int(value) if value.is_integer() else value
    return out


def format_target_lines(overrides: dict | None) -> str:
    """The inverse of parse_target_lines, for editing."""
    return "\n".join(f"{code} {indicator} {level:g}" for code, targets in sorted((overrides or {}).items())
                     for indicator, level in sorted(targets.items()))


class CampaignForm(FlaskForm):
    """Create or edit a campaign; agencies are picked by country and type, then one by one."""

    # i18n: the name of a campaign (Russian «Название», not a person's «Имя»)
    name = StringField(LazyString(lambda: pgettext("campaign", "Name")), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description (for staff)"), validators=[Optional(), Length(max=5000)])
    version = SelectField(_l("Questionnaire version"), coerce=int, choices=[])
    opens_on = DateField(_l("Opening date"), validators=[Optional()])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    follow_up_of = SelectField(_l("Follow-up of"), coerce=int, choices=[])
    pick_countries = SelectMultipleField(_l("Countries"), choices=[], validate_choice=False)
    pick_kinds = SelectMultipleField(_l("Types of agency"), choices=[], validate_choice=False)
    agencies = SelectMultipleField(_l("Agencies"), coerce=int, choices=[], validate_choice=True)
    targets = TextAreaField(_l("Target overrides per country"), validators=[Optional(), Length(max=20000)])

    def validate_deadline(self, field):
        """The deadline cannot come before the opening date."""
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_("The deadline is before the opening date."))

    def validate_targets(self, field):
        """Each line is "COUNTRY INDICATOR LEVEL"."""
        try:
            parse_target_lines(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class InviteForm(FlaskForm):
    """Send invitations, optionally for one country only."""

    country = SelectField(_l("Country"), choices=[], validate_choice=False)


def campaign_form(locales: list[str], default_locale: str, **kwargs) -> CampaignForm:
    """A CampaignForm with an optional "Name in <language>" for each interface language but the default one
    (`form.translated_names`: {language code: field}); `name` serves every language without its own."""
    others = [code for code in locales if code != default_locale]
    fields = {f"name_{code}": StringField(LazyString(lambda code=code: _("Name in %(language)s",
                                                                          language=language_name(code))),
                                          validators=[Optional(), Length(max=200)]) for code in others}
    form = type("CampaignForm", (CampaignForm,), fields)(**kwargs)
    form.translated_names = {code: form[f"name_{code}"] for code in others}
    return form
