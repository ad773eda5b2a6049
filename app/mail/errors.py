"""Delivery errors stored in the outbox as people read them on the pages (the outbox, a campaign's invitations)."""

from __future__ import annotations

import re

from app.i18n import _


def _withdrawn() -> dict[str, str]:
    """The reasons app.campaigns.services.WITHDRAWN stores, in the interface language."""
    return {
        "Not sent: its link was revoked.": _("Not sent: its link was revoked."),
        "Not sent: its link has expired.": _("Not sent: its link has expired."),
        "Not sent: the contact has moved to another agency.": _("Not sent: the contact has moved to another agency."),
        "Not sent: the campaign no longer asks this agency.": _("Not sent: the campaign no longer asks this agency."),
        "Not sent: the contact, the agency or the contact's account is no longer active.":
            _("Not sent: the contact, the agency or the contact's account is no longer active."),
        "Not sent: the campaign is no longer open.": _("Not sent: the campaign is no longer open."),
        "Not sent: the agency has submitted its answers.": _("Not sent: the agency has submitted its answers."),
    }


#: The texts app.mail.smtp writes (in English: they are stored in the outbox and go to the log and the command
#: line as they are) when the server cannot be reached or refuses an address, each with the sentence people read on
#: the pages; the technical detail after the colon (the error class, the server's answer) is shown as it is.
_SMTP_ERRORS = (
    (re.compile(r"SMTP server (?P<server>\S+) unreachable: (?P<detail>.*)", re.S),
     lambda m: _("SMTP server %(server)s unreachable: %(detail)s", **m.groupdict())),
    (re.compile(r"STARTTLS with (?P<server>\S+) failed: (?P<detail>.*)", re.S),
     lambda m: _("STARTTLS with %(server)s failed: %(detail)s", **m.groupdict())),
    (re.compile(r"sign-in to (?P<server>\S+) as (?P<user>.+?) failed: (?P<detail>.*)", re.S),
     lambda m: _("sign-in to %(server)s as %(user)s failed: %(detail)s", **m.groupdict())),
    (re.compile(r"The SMTP server (?P<server>\S+) does not support SMTPUTF8, which the address (?P<address>\S+) "
                r"needs \(non-ASCII characters before the @\)\. Use a server that supports SMTPUTF8, or another "
                r"address\.", re.S),
     lambda m: _("The SMTP server %(server)s does not support SMTPUTF8, which the address %(address)s needs "
                 "(non-ASCII characters before the @). Use a server that supports SMTPUTF8, or another address.",
                 **m.groupdict())),
)


def error_text(error: str | None) -> str:
    """A stored delivery error as people read it: the sentence of app.mail.smtp in the interface language, the
    technical detail (error class, the server's answer) as it is; any other text unchanged."""
    if not error:
        return ""
    withdrawn = _withdrawn()
    if error in withdrawn:
        return withdrawn[error]
    for pattern, sentence in _SMTP_ERRORS:
        match = pattern.fullmatch(error)
        if match:
            return sentence(match)
    return error
