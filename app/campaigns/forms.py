"""Campaign forms."""

from __future__ import annotations

import re

from flask_babel import pgettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.i18n import _, _l, language_name

_TARGET_LINE = re.compile(r"^\s*([A-Za-z]{2})\s+([a-z][a-z0-9_]*)\s+(\d+(?:[.,]\d+)?)\s*$")


def _target_lines(text: str):
    """(line number, country code, indicator id, level or None when the line is not "KZ inv_unit 3") of each line
    that is neither empty nor a # comment."""
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _TARGET_LINE.match(line)
        if not match:
            yield number, None, None, None
            continue
        code, indicator, level = match.groups()
        value = float(level.replace(",", "."))
        yield number, code.upper(), indicator, int(value) if value.is_integer() else value


def parse_target_lines(text: str) -> dict[str, dict[str, float]]:
    """Parse lines "KZ inv_unit 3" into {"KZ": {"inv_unit": 3}}; ValueError names the first bad line (see
    `target_line_problems` for every problem of every line)."""
    out: dict[str, dict[str, float]] = {}
    for number, code, indicator, level in _target_lines(text):
        if code is None:
            raise ValueError(_shape_problem(number))
        out.setdefault(code, {})[indicator] = level
    return out


def _shape_problem(number: int) -> str:
    return _("Line %(n)s: write a country code, an indicator id and a level, e.g. “KZ inv_unit 3”.", n=number)


def target_line_problems(text: str, definition, country_codes: set[str]) -> list[str]:
    """Every problem of the target lines, each naming its line: not "COUNTRY INDICATOR LEVEL", a country or an
    indicator that does not exist, a level outside the questionnaire's scale, the same country and indicator
    twice (the second would silently win)."""
    indicators = {indicator.id for _area, indicator in definition.indicators()} if definition else None
    low, high = (definition.min_level, definition.max_level) if definition else (None, None)
    problems: list[str] = []
    first: dict[tuple[str, str], int] = {}
    for number, code, indicator, level in _target_lines(text):
        if code is None:
            problems.append(_shape_problem(number))
            continue
        if code not in country_codes:
            problems.append(_("Line %(n)s: unknown country code “%(code)s”.", n=number, code=code))
        if indicators is not None and indicator not in indicators:
            problems.append(_("Line %(n)s: the questionnaire has no indicator “%(indicator)s”.", n=number,
                              indicator=indicator))
        if low is not None and not low <= level <= high:
            problems.append(_("Line %(n)s: %(level)s is outside the scale, %(low)s to %(high)s.", n=number,
                              level=format(level, "g"), low=format(low, "g"), high=format(high, "g")))
        if (code, indicator) in first:
            problems.append(_("Line %(n)s repeats %(code)s %(indicator)s of line %(first)s: keep one of them.",
                              n=number, code=code, indicator=indicator, first=first[code, indicator]))
        first.setdefault((code, indicator), number)
    return problems


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
    #: What the edit page showed (`services.edit_state`, as JSON): a save over a colleague's is refused.
    seen = HiddenField()

    def validate_deadline(self, field):
        """The deadline cannot come before the opening date."""
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_("The deadline is before the opening date."))

    def validate_targets(self, field):
        """Each line is "COUNTRY INDICATOR LEVEL" of a known country and an indicator of the chosen version, on its
        scale, each country and indicator once; every problem is listed with its line."""
        from app.directory.models import Country
        from app.extensions import db
        from app.questionnaires.models import QuestionnaireVersion
        from app.questionnaires.services import definition_of

        # (already in the session: the version choices were just read). Only a version the form offers: any other
        # number (one past the database's integers too) is the version field's own error.
        offered = {choice.value for choice in self.version.choices or ()}
        version = db.session.get(QuestionnaireVersion, self.version.data) if self.version.data in offered else None
        codes = set(db.session.scalars(db.select(Country.code)))
        problems = target_line_problems(field.data, definition_of(version) if version else None, codes)
        if problems:
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])


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
