"""Directory forms: the agency list filters, agency and contact forms, the toggle button and the import upload."""

from __future__ import annotations

from collections.abc import Sequence

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale, pgettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, SearchField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.directory.values import MAX_ACRONYM, MAX_AGENCY_NAME, MAX_CONTACT_NAME, MAX_EMAIL, MAX_PHONE, MAX_POSITION
from app.i18n import LOCALE_NAMES, _l

#: Values of the status filter of the agency list (Russian says «Активные», «Отключённые»: plural, for agencies).
STATUS_CHOICES = (("", _l("All")), ("active", LazyString(lambda: pgettext("agencies", "Active"))),
                  ("inactive", LazyString(lambda: pgettext("agencies", "Deactivated"))))


def language_label(code: str) -> str:
    """A language's name in the interface language, for a sentence ("English"; «английский» in Russian), where
    `language_name` gives its name in itself (English, Русский) for menus and lists."""
    try:
        name = Locale.parse(code).get_display_name(get_locale())
    except (UnknownLocaleError, ValueError, TypeError):
        name = None
    return name or LOCALE_NAMES.get(code, code)


class AgencyFilterForm(FlaskForm):
    """Search and filters of the agency list (read from the query string; no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=200)])
    country = SelectField(_l("Country"), choices=[], validate_choice=False)
    kind = SelectField(_l("Type"), choices=[], validate_choice=False)
    status = SelectField(_l("Status"), choices=[SelectChoice(v, label) for v, label in STATUS_CHOICES],
                         validate_choice=False)


class AgencyForm(FlaskForm):
    """Create or edit an agency; `agency_form` adds one name field per configured language."""

    country = SelectField(_l("Country"), choices=[])
    acronym = StringField(_l("Acronym"), validators=[DataRequired(), Length(max=MAX_ACRONYM)])
    kind = SelectField(_l("Type"), choices=[])

    #: Languages of the name fields, in order (set by agency_form).
    name_locales: Sequence[str] = ()

    def name_fields(self) -> list:
        """The name fields, one per language."""
        return [self[f"name_{code}"] for code in self.name_locales]

    def names(self) -> dict[str, str]:
        """The names typed, by language."""
        return {code: self[f"name_{code}"].data or "" for code in self.name_locales}


def agency_form(locales: Sequence[str], **kwargs) -> AgencyForm:
    """An AgencyForm with a name field for each language of `locales` (fields `name_<code>`)."""
    attrs = {
        f"name_{code}": StringField(_l("Name (%(language)s)", language=language_label(code)),
                                    validators=[Optional(), Length(max=MAX_AGENCY_NAME)], render_kw={"lang": code})
        for code in locales
    }
    attrs["name_locales"] = tuple(locales)
    form_class = type("AgencyNamesForm", (AgencyForm,), attrs)
    return form_class(**kwargs)


class ContactForm(FlaskForm):
    """Create or edit a contact person (the agency can be changed when editing)."""

    agency = SelectField(_l("Agency"), choices=[], coerce=int)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_CONTACT_NAME)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=MAX_POSITION)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=MAX_EMAIL)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=MAX_PHONE)])
    locale = SelectField(_l("Preferred language"), choices=[])
    is_focal_point = BooleanField(_l("Focal point (the agency's main contact)"))


class ToggleForm(FlaskForm):
    """An empty form: the CSRF token is all that deactivating or reactivating needs."""


class ImportForm(FlaskForm):
    """Upload of a filled-in directory workbook."""

    file = FileField(_l("Workbook (.xlsx)"), validators=[FileRequired(_l("Choose a file to upload."))],
                     render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    check_only = BooleanField(_l("Check only: list problems and what would change, save nothing"))

    @staticmethod
    def language_label(code: str) -> str:
        """The name of a template's language inside the page's sentences ("Empty template, English")."""
        return language_label(code)
