"""Sign-in, password and user administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from app.auth.models import ROLES
from app.auth.passwords import MIN_LENGTH
from app.i18n import _, _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "staff": _l("Staff"),
    "expert": _l("Expert"),
    "respondent": _l("Respondent"),
}


class SignInForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    """The current password and a new one, twice."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_LENGTH)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class UserForm(FlaskForm):
    """Create or edit a user (admin)."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    locale = SelectField(_l("Preferred language"), choices=[])
    countries = SelectMultipleField(_l("Countries (experts only)"), choices=[], validate_choice=True)
    is_active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password (leave empty to generate one)"), validators=[Optional(), Length(min=MIN_LENGTH)]
    )

    def validate_countries(self, field):
        """Countries are an expert's scope; ticked for another role they would be dropped without a word."""
        if field.data and self.role.data != "expert":
            raise ValidationError(_("Only experts are assigned countries: untick them, or choose the role "
                                    "“Expert”."))


class ResetPasswordForm(FlaskForm):
    """An empty form: the CSRF token is all a reset needs; a new password is generated."""
