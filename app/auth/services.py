"""Account operations: create, authenticate, change. Plain arguments in, objects out; flush, never commit."""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import ROLES, User
from app.auth.passwords import MIN_LENGTH, hash_password, verify_password
from app.core import audit
from app.core.models import utcnow
from app.directory.models import Country
from app.extensions import db
from app.i18n import _, ngettext


class AccountError(ValueError):
    """An account operation was refused; the message, translated when raised (into the request's language on
    the web, DEFAULT_LOCALE on the command line), is shown to the person."""


def normalise_email(email: str) -> str:
    """Check an e-mail address's syntax and return it lower-cased (no DNS look-up)."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(_("“%(value)s” is not a valid e-mail address (%(reason)s).", value=(email or "").strip(),
                              reason=str(exc))) from exc
    return result.normalized.lower()


def get_by_email(email: str) -> User | None:
    """The user with this e-mail (case-insensitive), or None."""
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    return db.session.scalar(select(User).where(User.email == email))


def countries_by_codes(codes: Iterable[str]) -> list[Country]:
    """Countries for ISO codes; unknown codes raise AccountError naming them."""
    codes = sorted({c.strip().upper() for c in codes if c and c.strip()})
    if not codes:
        return []
    found = db.session.scalars(select(Country).where(Country.code.in_(codes))).all()
    missing = sorted(set(codes) - {c.code for c in found})
    if missing:
        raise AccountError(_("unknown country code(s): %(codes)s", codes=", ".join(missing)))
    return sorted(found, key=lambda c: c.code)


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short."""
    if len(password or "") < MIN_LENGTH:
        raise AccountError(ngettext("the password must have at least %(num)s character",
                                     "the password must have at least %(num)s characters", MIN_LENGTH))


def create_user(
    email: str,
    role: str,
    *,
    name: str = "",
    password: str | None = None,
    locale: str | None = None,
    country_codes: Iterable[str] = (),
    actor=None,
    channel: str = "web",
) -> User:
    """Create an account; experts get their countries. Raises AccountError on bad input or a duplicate."""
    if role not in ROLES:
        raise AccountError(_("Unknown role '%(role)s'; choose one of %(roles)s.", role=role, roles=", ".join(ROLES)))
    email = normalise_email(email)
    if get_by_email(email) is not None:
        raise AccountError(_("A user with e-mail %(email)s already exists.", email=email))
    from app.directory.models import Contact

    contact = db.session.scalar(select(Contact).where(Contact.email == email))
    if contact is not None and role != "respondent":  # the contact's personal links would stop signing in
        raise AccountError(_("%(email)s is the address of a contact of %(agency)s, who signs in with personal links "
                             "sent to it: give the account another address.", email=email,
                             agency=contact.agency.acronym))
    if password is not None:
        check_password_strength(password)
    user = User(email=email, role=role, name=name.strip(), locale=locale or None, is_active=True)
    user.password_hash = hash_password(password) if password else None
    user.countries = countries_by_codes(country_codes) if role == "expert" else []
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:  # the same address created meanwhile (the form sent twice at once)
        raise AccountError(_("A user with e-mail %(email)s already exists.", email=email)) from None
    audit.record("user.created", actor=actor, object_type="user", object_id=user.id,
                 new={"email": email, "role": role, "countries": user.country_codes}, channel=channel)
    return user


def update_user(user: User, *, name: str, role: str, locale: str | None, is_active: bool,
                country_codes: Iterable[str], actor=None) -> User:
    """Change a user's profile, role, activity and countries; audited with old and new values."""
    if role not in ROLES:
        raise AccountError(_("Unknown role “%(role)s”.", role=role))
    if user.role == "respondent" and role != "respondent":
        # a respondent's account has no password and belongs to a contact: made staff or expert, it could not
        # sign in, and the contact's links would stop working ("belongs to a staff or expert account")
        raise AccountError(_("A respondent's account cannot be given another role: it signs in with its contact's "
                             "personal links only. Create a separate account for the person's other role."))
    if role == "respondent" and user.role != "respondent":
        # a respondent signs in with the personal links sent to one of their agency's contacts: an account made
        # one here would keep a password that leads nowhere and no agency to answer for
        raise AccountError(_("An account cannot be made a respondent's: respondents' accounts come from their "
                             "agency's contacts when they open their personal link."))
    old = _snapshot(user)
    user.name = name.strip()
    user.role = role
    user.locale = locale or None
    if user.is_active and not is_active:
        # Deactivation ends the account's sessions and API tokens for good: reactivated, it signs in afresh
        # (before, a session cookie or token of before worked again).
        user.session_generation = (user.session_generation or 0) + 1
        _revoke_tokens(user, actor=actor, channel="web", why="account deactivated")
    user.is_active = is_active
    user.countries = countries_by_codes(country_codes) if role == "expert" else []
    db.session.flush()
    new = _snapshot(user)
    if old != new:
        audit.record("user.updated", actor=actor, object_type="user", object_id=user.id, old=old, new=new)
    return user


def set_password(user: User, password: str, *, actor=None, channel: str = "web", reason: str = "changed") -> None:
    """Set a new password (never logged; only the fact is audited). A reset by an administrator (the account
    may be in the wrong hands) also revokes the account's API tokens."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    audit.record(f"user.password_{reason}", actor=actor, object_type="user", object_id=user.id, channel=channel)
    if reason == "reset":
        _revoke_tokens(user, actor=actor, channel=channel, why="password reset")


def _revoke_tokens(user: User, *, actor, channel: str, why: str) -> None:
    """Revoke the account's API tokens (a reset password or a deactivation: the account may be in wrong hands)."""
    from app.api.models import ApiToken

    now = utcnow()
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                           ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
        audit.record("api_token.revoked", actor=actor, object_type="api_token", object_id=token.id,
                     channel=channel, old={"name": token.name}, details=why)


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every kind of failure)."""
    user = get_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def all_countries() -> list[Country]:
    """Every country of the directory, by code."""
    return list(db.session.scalars(select(Country).order_by(Country.code)))


def list_users() -> list[User]:
    """All users, by role then e-mail."""
    return list(db.session.scalars(select(User).order_by(User.role, User.email)))


def _snapshot(user: User) -> dict:
    return {"name": user.name, "role": user.role, "locale": user.locale, "is_active": user.is_active,
            "countries": user.country_codes}
