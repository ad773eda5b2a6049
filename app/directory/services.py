"""Directory operations: agencies and their contacts, the Excel template and the bulk import.

Plain arguments in, objects or plain results out; the acting user is passed in as `actor`; the session is
flushed, never committed (the request or the command commits). Refusals raise DirectoryError with a
sentence in the current language, naming the form field it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from flask import current_app
from openpyxl.workbook import Workbook
from sqlalchemy import func, select

from app.core import audit
from app.directory.labels import agency_type_labels, language_name
from app.directory.models import AGENCY_TYPES, Agency, Contact, Country
from app.directory.values import (
    MAX_ACRONYM,
    MAX_AGENCY_NAME,
    MAX_CONTACT_NAME,
    MAX_EMAIL,
    MAX_PHONE,
    MAX_POSITION,
    EmailError,
    clean_text,
    normalise_email,
)
from app.directory.workbooks import (
    AgencyRow,
    ContactRow,
    Problem,
    Vocabulary,
    agency_key,
    build_template,
    read_directory,
)
from app.extensions import db
from app.i18n import _, available_locales, force_locale, get_locale_code

#: Value of the country filter that selects regional bodies (agencies without a country).
REGIONAL = "regional"


class DirectoryError(ValueError):
    """An operation was refused; `message` is shown to the person, next to `field` when it names one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------------------------
# Countries


def all_countries() -> list[Country]:
    """Every country of the directory, by code."""
    return list(db.session.scalars(select(Country).order_by(Country.code)))


def country_by_code(code: str | None) -> Country | None:
    """The country with this ISO code (any case), or None."""
    code = (code or "").strip().upper()
    return db.session.scalar(select(Country).where(Country.code == code)) if code else None


def _country_or_error(code: str | None) -> Country | None:
    if not (code or "").strip():
        return None
    country = country_by_code(code)
    if country is None:
        raise DirectoryError(_("Unknown country code “%(code)s”.", code=code), field="country")
    return country


# ---------------------------------------------------------------------------------------------------------
# Agencies


def _fold(text: str) -> str:
    return (text or "").replace("ё", "е").replace("Ё", "Е").casefold()


def _agency_order(agency: Agency) -> tuple:
    """Country agencies by country code, then regional bodies; acronym within each."""
    return agency.country is None, agency.country_code, _fold(agency.acronym)


def list_agencies(*, country: str | None = None, kind: str | None = None, active: bool | None = None,
                  q: str = "") -> list[Agency]:
    """Agencies filtered by country code (or REGIONAL), type, activity and free text on acronym and names.

    The text matches any part of the acronym or of a name in any language, ignoring case.
    """
    query = select(Agency)
    if country == REGIONAL:
        query = query.where(Agency.country_id.is_(None))
    elif country:
        query = query.join(Country, Agency.country_id == Country.id).where(Country.code == country.upper())
    if kind:
        query = query.where(Agency.kind == kind)
    if active is not None:
        query = query.where(Agency.is_active.is_(active))
    agencies = list(db.session.scalars(query).unique())
    if clean_text(q):
        agencies = [a for a in agencies if agency_matches(a, q)]
    return sorted(agencies, key=_agency_order)


def agency_matches(agency: Agency, q: str) -> bool:
    """Whether the text is part of the agency's acronym or of one of its names in any language, ignoring case
    (and ё / е). In Python: names are JSON, and SQL case-folding of Cyrillic differs between databases."""
    needle = _fold(clean_text(q))
    return not needle or needle in _fold(agency.acronym) or any(needle in _fold(str(n)) for n in agency.names.values())


def contact_counts() -> dict[int, int]:
    """Number of contacts per agency id."""
    rows = db.session.execute(select(Contact.agency_id, func.count()).group_by(Contact.agency_id))
    return dict(rows.all())  # type: ignore[arg-type]


def get_agency(agency_id: int) -> Agency | None:
    """The agency with this id, or None."""
    return db.session.get(Agency, agency_id)


def find_agency(country_code: str | None, acronym: str) -> Agency | None:
    """The agency with this country (None or "" for a regional body) and acronym (any case), or None."""
    country = country_by_code(country_code) if country_code else None
    if country_code and country is None:
        return None
    return _same_acronym(country, acronym)


def _same_acronym(country: Country | None, acronym: str, exclude_id: int | None = None) -> Agency | None:
    query = select(Agency).where(Agency.country_id.is_(None) if country is None else Agency.country_id == country.id)
    key = agency_key(country.code if country else "", acronym)
    for agency in db.session.scalars(query).unique():
        if agency.id != exclude_id and agency_key(agency.country_code, agency.acronym) == key:
            return agency
    return None


def _check_agency(country: Country | None, acronym: str, kind: str, names: Mapping[str, str],
                  exclude_id: int | None = None) -> None:
    if not acronym:
        raise DirectoryError(_("Enter the agency's acronym."), field="acronym")
    if len(acronym) > MAX_ACRONYM:
        raise DirectoryError(_("The acronym is too long (at most %(limit)s characters).", limit=MAX_ACRONYM),
                             field="acronym")
    if kind not in AGENCY_TYPES:
        raise DirectoryError(_("Unknown agency type “%(kind)s”.", kind=kind), field="kind")
    if not any(names.values()):
        raise DirectoryError(_("Enter the agency's name in at least one language."), field="names")
    if any(len(n) > MAX_AGENCY_NAME for n in names.values()):
        raise DirectoryError(_("A name is too long (at most %(limit)s characters).", limit=MAX_AGENCY_NAME),
                             field="names")
    other = _same_acronym(country, acronym, exclude_id)
    if other is not None:
        if country is None:
            message = _("Another regional body already has the acronym %(acronym)s.", acronym=other.acronym)
        else:
            message = _("Another agency of %(country)s already has the acronym %(acronym)s.",
                        country=country.name(get_locale_code()), acronym=other.acronym)
        raise DirectoryError(message, field="acronym")


#: Codes the CLDR names that are no country: groupings, "unknown region", private-use codes.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}


def country_names(code: str, languages: Iterable[str]) -> dict[str, str] | None:
    """The names of the country with ISO 3166-1 alpha-2 `code` in each language (from the Unicode CLDR data that
    Babel carries: "KZ" -> {"en": "Kazakhstan", "ru": "Казахстан"}), or None if `code` names no country."""
    if len(code) != 2 or not code.isalpha() or code in _NOT_COUNTRIES or code not in Locale("en").territories:
        return None
    names = {}
    for lang in languages:
        try:
            names[lang] = Locale.parse(lang).territories.get(code) or Locale("en").territories[code]
        except (ValueError, UnknownLocaleError):
            names[lang] = Locale("en").territories[code]
    return names


def add_country(code: str, names: Mapping[str, str] | None = None, *, actor=None,
                channel: str = "cli") -> tuple[Country, str]:
    """Add the country with ISO code `code`, named in every interface language (CLDR's names, unless `names`
    gives others), or update the names `names` gives of one that exists. Returns the country and "created",
    "updated" or "unchanged"; audited."""
    code = (code or "").strip().upper()
    standard = country_names(code, available_locales())
    if standard is None:
        raise DirectoryError(_("“%(code)s” is not an ISO 3166-1 country code (two letters, such as KZ or TJ).",
                               code=code))
    given = {lang: clean_text(text) for lang, text in (names or {}).items() if clean_text(text)}
    country = db.session.scalar(select(Country).where(Country.code == code))
    if country is None:
        country = Country(code=code, names={**standard, **given})
        db.session.add(country)
        db.session.flush()
        audit.record("country.created", actor=actor, object_type="country", object_id=country.id,
                     new={"code": code, "names": country.names}, channel=channel)
        return country, "created"
    if given and {**country.names, **given} != country.names:
        old = dict(country.names)
        country.names = {**country.names, **given}
        db.session.flush()
        audit.record("country.updated", actor=actor, object_type="country", object_id=country.id,
                     old={"names": old}, new={"names": country.names}, channel=channel)
        return country, "updated"
    return country, "unchanged"


def _clean_names(names: Mapping[str, str | None]) -> dict[str, str]:
    return {lang: clean_text(text) for lang, text in names.items()}


def _agency_snapshot(agency: Agency) -> dict:
    return {"country": agency.country_code, "acronym": agency.acronym, "kind": agency.kind,
            "names": dict(agency.names), "is_active": agency.is_active}


def create_agency(*, country_code: str | None, acronym: str, names: Mapping[str, str | None], kind: str = "other",
                  is_active: bool = True, actor=None, channel: str = "web") -> Agency:
    """Add an agency (a regional body when `country_code` is empty); audited."""
    country = _country_or_error(country_code)
    acronym = clean_text(acronym)
    cleaned = {lang: text for lang, text in _clean_names(names).items() if text}
    _check_agency(country, acronym, kind, cleaned)
    agency = Agency(country=country, acronym=acronym, kind=kind, names=cleaned, is_active=is_active)
    db.session.add(agency)
    db.session.flush()
    audit.record("agency.created", actor=actor, object_type="agency", object_id=agency.id,
                 new=_agency_snapshot(agency), channel=channel)
    return agency


def update_agency(agency: Agency, *, country_code: str | None, acronym: str, names: Mapping[str, str | None],
                  kind: str, is_active: bool | None = None, actor=None, channel: str = "web") -> Agency:
    """Change an agency; names in languages not given are kept, an empty name removes it. Audited when changed."""
    country = _country_or_error(country_code)
    acronym = clean_text(acronym)
    merged = dict(agency.names)
    for lang, text in _clean_names(names).items():
        if text:
            merged[lang] = text
        else:
            merged.pop(lang, None)
    _check_agency(country, acronym, kind, merged, exclude_id=agency.id)
    old = _agency_snapshot(agency)
    old_country_id = agency.country_id
    agency.country, agency.acronym, agency.kind, agency.names = country, acronym, kind, merged
    if is_active is not None:
        agency.is_active = is_active
    new = _agency_snapshot(agency)
    if new != old:
        db.session.flush()
        audit.record("agency.updated", actor=actor, object_type="agency", object_id=agency.id, old=old, new=new,
                     channel=channel)
        from app.campaigns.services import agency_moved

        agency_moved(agency, old_country_id)  # the scores of both countries
    return agency


def set_agency_active(agency: Agency, is_active: bool, *, actor=None, channel: str = "web") -> bool:
    """Deactivate or reactivate an agency (its contacts are left as they are); True when it changed."""
    if agency.is_active == is_active:
        return False
    agency.is_active = is_active
    db.session.flush()
    audit.record("agency.reactivated" if is_active else "agency.deactivated", actor=actor, object_type="agency",
                 object_id=agency.id, old={"is_active": not is_active}, new={"is_active": is_active},
                 channel=channel)
    return True


def agencies_for(country_codes: Iterable[str] | None = None, kinds: Iterable[str] | None = None,
                 active_only: bool = True) -> list[Agency]:
    """Agencies of some countries and types, e.g. for the agencies of a campaign.

    `country_codes` None means every country and the regional bodies; in a list, "" (or REGIONAL) stands for
    the regional bodies. `kinds` None means every type. Unknown codes or types raise DirectoryError.
    """
    query = select(Agency)
    if country_codes is not None:
        wanted = {(c or "").strip().upper() for c in country_codes}
        regional = bool(wanted & {"", REGIONAL.upper()})
        codes = sorted(wanted - {"", REGIONAL.upper()})
        known = {c.code: c.id for c in db.session.scalars(select(Country).where(Country.code.in_(codes)))}
        missing = [c for c in codes if c not in known]
        if missing:
            raise DirectoryError(_("Unknown country code(s): %(codes)s.", codes=", ".join(missing)), field="country")
        condition = Agency.country_id.in_(list(known.values()))
        query = query.where((condition | Agency.country_id.is_(None)) if regional else condition)
    if kinds is not None:
        kinds = sorted(set(kinds))
        unknown = [k for k in kinds if k not in AGENCY_TYPES]
        if unknown:
            raise DirectoryError(_("Unknown agency type(s): %(kinds)s.", kinds=", ".join(unknown)), field="kind")
        query = query.where(Agency.kind.in_(kinds))
    if active_only:
        query = query.where(Agency.is_active.is_(True))
    return sorted(db.session.scalars(query).unique(), key=_agency_order)


# ---------------------------------------------------------------------------------------------------------
# Contacts


def default_contact_locale() -> str:
    """The language a new contact gets: Russian (the working language with partners) when configured."""
    locales = available_locales()
    return "ru" if "ru" in locales else current_app.config["DEFAULT_LOCALE"]


def list_contacts(*, agency_id: int | None = None, country: str | None = None, active: bool | None = None,
                  focal_only: bool = False, q: str = "") -> list[Contact]:
    """Contacts filtered by agency, country code (or REGIONAL), activity, focal point and free text.

    The text matches any part of the name, position, e-mail or phone, ignoring case.
    """
    query = select(Contact).join(Agency, Contact.agency_id == Agency.id)
    if agency_id is not None:
        query = query.where(Contact.agency_id == agency_id)
    if country == REGIONAL:
        query = query.where(Agency.country_id.is_(None))
    elif country:
        query = query.join(Country, Agency.country_id == Country.id).where(Country.code == country.upper())
    if active is not None:
        query = query.where(Contact.is_active.is_(active))
    if focal_only:
        query = query.where(Contact.is_focal_point.is_(True))
    contacts = list(db.session.scalars(query).unique())
    needle = _fold(clean_text(q))
    if needle:
        contacts = [c for c in contacts
                    if any(needle in _fold(v) for v in (c.name, c.position, c.email, c.phone))]
    return sorted(contacts, key=lambda c: (_agency_order(c.agency), _fold(c.name)))


def get_contact(contact_id: int) -> Contact | None:
    """The contact with this id, or None."""
    return db.session.get(Contact, contact_id)


def get_contact_by_email(email: str) -> Contact | None:
    """The contact with this e-mail address (any case), or None."""
    try:
        email = normalise_email(email)
    except EmailError:
        return None
    return db.session.scalar(select(Contact).where(Contact.email == email))


def _checked_contact_values(*, name: str, email: str, position: str, phone: str, locale: str | None,
                            exclude_id: int | None = None) -> dict:
    name, position, phone = clean_text(name), clean_text(position), clean_text(phone)
    if not name:
        raise DirectoryError(_("Enter the contact's name."), field="name")
    for value, limit, field_name in ((name, MAX_CONTACT_NAME, "name"), (position, MAX_POSITION, "position"),
                                     (phone, MAX_PHONE, "phone")):
        if len(value) > limit:
            raise DirectoryError(_("The text is too long (at most %(limit)s characters).", limit=limit),
                                 field=field_name)
    if not (email or "").strip():
        raise DirectoryError(_("Enter the contact's e-mail address."), field="email")
    try:
        email = normalise_email(email)
    except EmailError as exc:
        raise DirectoryError(_("“%(value)s” is not a valid e-mail address (%(reason)s).", value=exc.value,
                               reason=exc.reason), field="email") from exc
    if len(email) > MAX_EMAIL:
        raise DirectoryError(_("The e-mail address is too long."), field="email")
    other = db.session.scalar(select(Contact).where(Contact.email == email))
    if other is not None and other.id != exclude_id:
        raise DirectoryError(_("Another contact (%(name)s, %(agency)s) already has the e-mail address %(email)s.",
                               name=other.name, agency=other.agency.acronym, email=email), field="email")
    from app.auth.models import User

    account = db.session.scalar(select(User).where(User.email == email, User.role != "respondent"))
    if account is not None:  # its personal links would open "This link cannot be used" (409)
        raise DirectoryError(_("%(value)s is the address of a staff or expert account, and a contact signs in with "
                               "personal links sent to it: give the contact an address of their own.", value=email),
                             field="email")
    locale = locale or default_contact_locale()
    if locale not in available_locales():
        raise DirectoryError(_("Unknown language “%(locale)s”.", locale=locale), field="locale")
    return {"name": name, "email": email, "position": position, "phone": phone, "locale": locale}


def _contact_snapshot(contact: Contact) -> dict:
    agency = contact.agency
    return {"agency_id": contact.agency_id, "agency": f"{agency.country_code or '—'}/{agency.acronym}",
            "name": contact.name, "position": contact.position, "email": contact.email, "phone": contact.phone,
            "locale": contact.locale, "is_focal_point": contact.is_focal_point, "is_active": contact.is_active}


def create_contact(agency: Agency, *, name: str, email: str, position: str = "", phone: str = "",
                   locale: str | None = None, is_focal_point: bool = False, is_active: bool = True, actor=None,
                   channel: str = "web") -> Contact:
    """Add a contact person to an agency; the e-mail address must be valid and not used by another contact."""
    values = _checked_contact_values(name=name, email=email, position=position, phone=phone, locale=locale)
    contact = Contact(agency=agency, is_focal_point=is_focal_point, is_active=is_active, **values)
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.created", actor=actor, object_type="contact", object_id=contact.id,
                 new=_contact_snapshot(contact), channel=channel)
    return contact


def update_contact(contact: Contact, *, name: str, email: str, position: str, phone: str, locale: str | None,
                   is_focal_point: bool, agency: Agency | None = None, is_active: bool | None = None, actor=None,
                   channel: str = "web") -> Contact:
    """Change a contact (and move it to `agency` when given); audited when something changed."""
    values = _checked_contact_values(name=name, email=email, position=position, phone=phone, locale=locale,
                                     exclude_id=contact.id)
    old = _contact_snapshot(contact)
    new_person = values.get("email") is not None and values["email"] != contact.email
    for key, value in values.items():
        setattr(contact, key, value)
    contact.is_focal_point = is_focal_point
    if new_person:
        # Another address is another person (a successor in the post): the links sent to the former address
        # stop working and the former person's respondent account is no longer this contact's.
        from app.campaigns.models import Invitation
        from app.campaigns.services import revoke

        for invitation in db.session.scalars(select(Invitation).where(Invitation.contact_id == contact.id,
                                                                      Invitation.revoked_at.is_(None))):
            revoke(invitation, actor=actor, channel=channel)
        contact.user_id = None
    if agency is not None and agency is not contact.agency:
        contact.agency = agency
    if is_active is not None:
        contact.is_active = is_active
    db.session.flush()
    new = _contact_snapshot(contact)
    if new != old:
        audit.record("contact.updated", actor=actor, object_type="contact", object_id=contact.id, old=old, new=new,
                     channel=channel)
    return contact


def set_contact_active(contact: Contact, is_active: bool, *, actor=None, channel: str = "web") -> bool:
    """Deactivate or reactivate a contact; True when it changed."""
    if contact.is_active == is_active:
        return False
    contact.is_active = is_active
    db.session.flush()
    audit.record("contact.reactivated" if is_active else "contact.deactivated", actor=actor,
                 object_type="contact", object_id=contact.id, old={"is_active": not is_active},
                 new={"is_active": is_active}, channel=channel)
    return True


# ---------------------------------------------------------------------------------------------------------
# The Excel template and the bulk import


def template_workbook(lang: str, *, with_data: bool = False) -> Workbook:
    """The directory template in `lang` (en or ru); with the current agencies and contacts when `with_data`."""
    with force_locale(lang):
        countries = [(c.code, c.name(lang)) for c in all_countries()]
        kinds = list(agency_type_labels().items())
    locales = [(code, language_name(code)) for code in available_locales()]
    agencies: list[AgencyRow] = []
    contacts: list[ContactRow] = []
    if with_data:
        ordered = sorted(db.session.scalars(select(Agency)).unique(), key=_agency_order)
        agencies = [AgencyRow(a.country_code, a.acronym, a.kind, dict(a.names), a.is_active) for a in ordered]
        contacts = [ContactRow(c.agency.country_code, c.agency.acronym, c.name, c.email, c.position, c.phone,
                               c.locale, c.is_focal_point, c.is_active) for a in ordered for c in a.contacts]
    return build_template(lang, countries, kinds, locales, agencies=agencies, contacts=contacts,
                          default_locale=default_contact_locale())


@dataclass
class Counts:
    """How many rows an import created, updated or left unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain mapping (for the audit log)."""
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportReport:
    """The outcome of an import: every problem (then nothing was written), or what was (or would be) done."""

    problems: list[Problem] = field(default_factory=list)
    agencies: Counts = field(default_factory=Counts)
    contacts: Counts = field(default_factory=Counts)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """True when the file had no problem."""
        return not self.problems

    @property
    def empty(self) -> bool:
        """True when the file held no row at all (an empty template uploaded by mistake)."""
        return not any((*self.agencies.as_dict().values(), *self.contacts.as_dict().values()))

    @property
    def changed(self) -> bool:
        """True when the import created or updated something (or would, in a dry run)."""
        return bool(self.agencies.created or self.agencies.updated or self.contacts.created
                    or self.contacts.updated)


def _language_aliases(code: str) -> list[str]:
    aliases = [language_name(code)]
    try:
        locale = Locale.parse(code)
        aliases += [locale.get_display_name(lang) or "" for lang in ("en", "ru")]
    except (UnknownLocaleError, ValueError):
        pass
    return aliases


def _vocabulary(countries: Iterable[Country]) -> Vocabulary:
    kind_labels: dict[str, list[str]] = {code: [] for code in AGENCY_TYPES}
    for lang in ("en", "ru"):
        with force_locale(lang):
            for code, label in agency_type_labels().items():
                kind_labels[code].append(label)
    return Vocabulary(
        countries={c.code: list(c.names.values()) for c in countries},
        kinds=kind_labels,
        languages={code: _language_aliases(code) for code in available_locales()},
    )


def import_workbook(data: bytes, *, dry_run: bool = False, actor=None, channel: str = "web",
                    filename: str = "") -> ImportReport:
    """Check a directory workbook as a whole, then create or update its agencies and contacts.

    Nothing is written when any row has a problem, nor in a dry run (which reports what would be done).
    Agencies are matched by country and acronym, contacts by e-mail; empty optional cells keep stored values.
    One audit event "directory.imported" records the counts when something changed.
    """
    countries = {c.code: c for c in all_countries()}
    by_key: dict[tuple[str, str], Agency | None] = {
        agency_key(a.country_code, a.acronym): a for a in db.session.scalars(select(Agency)).unique()}
    from app.auth.models import User

    accounts = set(db.session.scalars(select(User.email).where(User.role != "respondent")))
    parsed = read_directory(data, _vocabulary(countries.values()), set(by_key), accounts)
    report = ImportReport(problems=parsed.problems, dry_run=dry_run)
    if parsed.problems:
        return report
    done: dict[str, list[str]] = {"created_agencies": [], "updated_agencies": [], "created_contacts": [],
                                  "updated_contacts": []}
    for row in parsed.agencies:
        label = f"{row.country or '—'}/{row.acronym}"
        agency = by_key.get(row.key)
        if agency is None:
            report.agencies.created += 1
            done["created_agencies"].append(label)
            if not dry_run:
                agency = Agency(country=countries.get(row.country), acronym=row.acronym,
                                kind=row.kind or ("regional" if not row.country else "other"), names=dict(row.names),
                                is_active=True if row.is_active is None else row.is_active)
                db.session.add(agency)
            by_key[row.key] = agency
            continue
        wanted = {"acronym": row.acronym, "kind": row.kind or agency.kind, "names": {**agency.names, **row.names},
                  "is_active": agency.is_active if row.is_active is None else row.is_active}
        if all(getattr(agency, k) == v for k, v in wanted.items()):
            report.agencies.unchanged += 1
            continue
        report.agencies.updated += 1
        done["updated_agencies"].append(label)
        if not dry_run:
            for key, value in wanted.items():
                setattr(agency, key, value)
    if not dry_run:
        db.session.flush()
    emails = [row.email for row in parsed.contacts]
    existing = {c.email: c for c in db.session.scalars(select(Contact).where(Contact.email.in_(emails))).unique()}
    default_locale = default_contact_locale()
    for row in parsed.contacts:
        agency = by_key.get(row.agency_key)
        contact = existing.get(row.email)
        if contact is None:
            report.contacts.created += 1
            done["created_contacts"].append(row.email)
            if not dry_run:
                db.session.add(Contact(
                    agency=agency, name=row.name, email=row.email, position=row.position or "",
                    phone=row.phone or "", locale=row.locale or default_locale,
                    is_focal_point=bool(row.is_focal_point),
                    is_active=True if row.is_active is None else row.is_active))
            continue
        wanted = {"name": row.name, "position": contact.position if row.position is None else row.position,
                  "phone": contact.phone if row.phone is None else row.phone, "locale": row.locale or contact.locale,
                  "is_focal_point": contact.is_focal_point if row.is_focal_point is None else row.is_focal_point,
                  "is_active": contact.is_active if row.is_active is None else row.is_active}
        same_agency = agency_key(contact.agency.country_code, contact.agency.acronym) == row.agency_key
        if same_agency and all(getattr(contact, k) == v for k, v in wanted.items()):
            report.contacts.unchanged += 1
            continue
        report.contacts.updated += 1
        done["updated_contacts"].append(row.email)
        if not dry_run:
            for key, value in wanted.items():
                setattr(contact, key, value)
            if not same_agency:
                contact.agency = agency
    if not dry_run:
        db.session.flush()
        if report.changed:
            audit.record("directory.imported", actor=actor, object_type="directory", channel=channel,
                         new={"file": filename, "agencies": report.agencies.as_dict(),
                              "contacts": report.contacts.as_dict(), **done})
    return report


def describe_agency(agency: Agency, locale: str | None = None) -> str:
    """A one-line label of an agency: "KZ · MVD — Ministry of Internal Affairs" (regional bodies without a code)."""
    name = agency.name(locale or get_locale_code())
    prefix = f"{agency.country_code} · {agency.acronym}" if agency.country_code else agency.acronym
    return f"{prefix} — {name}" if name != agency.acronym else prefix

