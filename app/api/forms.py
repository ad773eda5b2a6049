"""The forms of the API tokens page."""

from __future__ import annotations

from flask_babel import pgettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.api.services import EXPIRY_DAYS
from app.i18n import _l

EXPIRY_LABELS = {30: _l("In 30 days"), 90: _l("In 90 days"), 365: _l("In one year"), None: _l("Never (until revoked)")}


class TokenForm(FlaskForm):
    """A name and an expiry period."""

    # i18n: the name of an API token (Russian «Название», not a person's «Имя»)
    name = StringField(LazyString(lambda: pgettext("API token", "Name")), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. “Power BI report”."))
    expires = SelectField(_l("Expires"), default="90",
                          choices=[SelectChoice("" if d is None else str(d), EXPIRY_LABELS[d]) for d in EXPIRY_DAYS])

    @property
    def expires_in_days(self) -> int | None:
        """The chosen period in days (None: never)."""
        return int(self.expires.data) if self.expires.data else None


class RevokeTokenForm(FlaskForm):
    """Which token to revoke."""

    token_id = HiddenField(validators=[DataRequired()])
