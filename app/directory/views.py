"""Staff pages of the partner directory: agencies, their contacts, the Excel template and the bulk import."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.permissions import require_role
from app.core.downloads import send_workbook
from app.core.errors import abort_with_message
from app.core.pagination import page_of
from app.core.urls import safe_next
from app.directory import services
from app.directory.forms import AgencyFilterForm, ContactForm, ImportForm, ToggleForm, agency_form
from app.directory.labels import agency_type_labels, language_name, problem_text
from app.directory.workbooks import MAX_BYTES, TEMPLATE_LANGUAGES
from app.extensions import db
from app.i18n import _, available_locales, get_locale_code

bp = Blueprint("directory", __name__, url_prefix="/directory")


def _country_choices(first: SelectChoice, *, regional: SelectChoice | None = None) -> list[SelectChoice]:
    lang = get_locale_code()
    choices = [first] + ([regional] if regional else [])
    return choices + [SelectChoice(c.code, f"{c.code} — {c.name(lang)}") for c in services.all_countries()]


def _kind_choices() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in agency_type_labels().items()]


def _locale_choices() -> list[SelectChoice]:
    return [SelectChoice(code, language_name(code)) for code in available_locales()]


def _show_error(form, exc: services.DirectoryError) -> None:
    """Put a refusal next to the field it is about (the first name field for names), else in a message."""
    name = exc.field
    if name == "names" and hasattr(form, "name_fields") and form.name_fields():
        form.name_fields()[0].errors.append(exc.message)
    elif name and name in form:
        form[name].errors.append(exc.message)
    else:
        flash(exc.message, "error")


def _back(default: str):
    return redirect(safe_next(request.form.get("next")) or default)


def _wanted_state(current: bool) -> bool:
    """The state a toggle button asks for ("1" or "0"), or the opposite of the current one."""
    wanted = request.form.get("active")
    return {"1": True, "0": False}.get(wanted, not current)


@bp.route("/agencies")
@require_role("staff", "admin")
def agencies():
    """Agencies with search and filters by country, type and status."""
    form = AgencyFilterForm(formdata=request.args)
    form.country.choices = _country_choices(SelectChoice("", _("All countries")),
                                            regional=SelectChoice(services.REGIONAL, _("Regional bodies")))
    form.kind.choices = [SelectChoice("", _("All types"))] + _kind_choices()
    active = {"active": True, "inactive": False}.get(form.status.data or "")
    kind = form.kind.data if form.kind.data in agency_type_labels() else None
    items = services.list_agencies(country=form.country.data or None, kind=kind, active=active,
                                   q=(form.q.data or "")[:200])
    page = page_of(items, request.args.get("page", 1, type=int), AGENCIES_PER_PAGE)
    filters = {key: request.args.get(key) for key in ("q", "country", "kind", "status") if request.args.get(key)}
    return render_template("directory/agencies.html", form=form, page=page, counts=services.contact_counts(),
                           kind_labels=agency_type_labels(), lang=get_locale_code(), filtered=bool(filters),
                           page_url=lambda number: url_for(".agencies", page=number, **filters))


#: Agencies listed a page at a time: a directory of thousands made a page of megabytes.
AGENCIES_PER_PAGE = 100


def _agency_form(agency=None):
    data = None
    if agency is not None and request.method != "POST":
        data = {"country": agency.country_code, "acronym": agency.acronym, "kind": agency.kind}
        data.update({f"name_{code}": agency.names.get(code, "") for code in available_locales()})
    form = agency_form(available_locales(), data=data)
    form.country.choices = _country_choices(SelectChoice("", _("None: regional body")))
    form.kind.choices = _kind_choices()
    if agency is None and request.method != "POST":
        form.kind.data = "other"
    return form


@bp.route("/agencies/new", methods=["GET", "POST"])
@require_role("staff", "admin")
def new_agency():
    """Add an agency."""
    form = _agency_form()
    if form.validate_on_submit():
        try:
            agency = services.create_agency(country_code=form.country.data, acronym=form.acronym.data,
                                            names=form.names(), kind=form.kind.data, actor=current_user)
        except services.DirectoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("Agency %(acronym)s added. You can now add its contacts.", acronym=agency.acronym), "success")
            return redirect(url_for(".edit_agency", agency_id=agency.id))
    return render_template("directory/agency_form.html", form=form, agency=None), 422 if form.errors else 200


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@require_role("staff", "admin")
def edit_agency(agency_id: int):
    """Edit an agency; its contacts are listed below the form."""
    agency = services.get_agency(agency_id) or abort(404)
    form = _agency_form(agency)
    if form.validate_on_submit():
        try:
            services.update_agency(agency, country_code=form.country.data, acronym=form.acronym.data,
                                   names=form.names(), kind=form.kind.data, actor=current_user)
        except services.DirectoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for(".edit_agency", agency_id=agency.id))
    agency = services.get_agency(agency_id)  # fresh after a refused save's rollback
    return render_template("directory/agency_form.html", form=form, agency=agency, toggle_form=ToggleForm(),
                           lang=get_locale_code()), 422 if form.errors else 200


@bp.route("/agencies/<int:agency_id>/toggle", methods=["POST"])
@require_role("staff", "admin")
def toggle_agency(agency_id: int):
    """Deactivate or reactivate an agency."""
    agency = services.get_agency(agency_id) or abort(404)
    if ToggleForm().validate_on_submit():
        active = _wanted_state(agency.is_active)
        if services.set_agency_active(agency, active, actor=current_user):
            db.session.commit()
        if active:
            flash(_("Agency %(acronym)s is active again.", acronym=agency.acronym), "success")
        else:
            flash(_("Agency %(acronym)s is deactivated: it is no longer offered for new campaigns.",
                    acronym=agency.acronym), "success")
    return _back(url_for(".edit_agency", agency_id=agency.id))


def _contact_form(contact=None, *, with_agency: bool):
    form = ContactForm(obj=contact) if contact is not None else ContactForm()
    if contact is not None and not form.is_submitted():
        # The contact's own agency, selected: `obj` gives the field the Agency object (its `agency` attribute),
        # which matches no option's id, so the page selected the first agency of the list and a save moved
        # the contact there without a word.
        form.agency.data = contact.agency_id
    form.locale.choices = _locale_choices()
    if with_agency:
        lang = get_locale_code()
        form.agency.choices = [SelectChoice(a.id, services.describe_agency(a, lang))
                               for a in services.list_agencies()]
    else:
        del form.agency
    if contact is None and request.method != "POST":
        form.locale.data = services.default_contact_locale()
    return form


@bp.route("/agencies/<int:agency_id>/contacts/new", methods=["GET", "POST"])
@require_role("staff", "admin")
def new_contact(agency_id: int):
    """Add a contact person to an agency."""
    agency = services.get_agency(agency_id) or abort(404)
    form = _contact_form(with_agency=False)
    if form.validate_on_submit():
        try:
            contact = services.create_contact(
                agency, name=form.name.data, email=form.email.data, position=form.position.data or "",
                phone=form.phone.data or "", locale=form.locale.data, is_focal_point=form.is_focal_point.data,
                actor=current_user)
        except services.DirectoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("Contact %(name)s added.", name=contact.name), "success")
            return redirect(url_for(".edit_agency", agency_id=agency_id))
    agency = services.get_agency(agency_id)
    return render_template("directory/contact_form.html", form=form, agency=agency, contact=None,
                           lang=get_locale_code()), 422 if form.errors else 200


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
@require_role("staff", "admin")
def edit_contact(contact_id: int):
    """Edit a contact person (and move them to another agency if need be)."""
    contact = services.get_contact(contact_id) or abort(404)
    form = _contact_form(contact, with_agency=True)
    if form.validate_on_submit():
        try:
            services.update_contact(
                contact, name=form.name.data, email=form.email.data, position=form.position.data or "",
                phone=form.phone.data or "", locale=form.locale.data, is_focal_point=form.is_focal_point.data,
                agency=services.get_agency(form.agency.data), actor=current_user)
        except services.DirectoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for(".edit_agency", agency_id=contact.agency_id))
    contact = services.get_contact(contact_id)
    return render_template("directory/contact_form.html", form=form, agency=contact.agency, contact=contact,
                           toggle_form=ToggleForm(), lang=get_locale_code()), 422 if form.errors else 200


@bp.route("/contacts/<int:contact_id>/toggle", methods=["POST"])
@require_role("staff", "admin")
def toggle_contact(contact_id: int):
    """Deactivate or reactivate a contact person."""
    contact = services.get_contact(contact_id) or abort(404)
    if ToggleForm().validate_on_submit():
        active = _wanted_state(contact.is_active)
        if services.set_contact_active(contact, active, actor=current_user):
            db.session.commit()
        if active:
            flash(_("%(name)s is an active contact again.", name=contact.name), "success")
        else:
            flash(_("%(name)s is deactivated: they get no more invitations.", name=contact.name), "success")
    return _back(url_for(".edit_agency", agency_id=contact.agency_id))


@bp.route("/import", methods=["GET", "POST"])
@require_role("staff", "admin")
def import_page():
    """Upload a filled-in template: every row is checked first; nothing is saved if any row is wrong."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it
        report = services.import_workbook(data, dry_run=form.check_only.data, actor=current_user, channel="web",
                                          filename=(upload.filename or "")[:200])
        if report.ok and not report.dry_run:
            db.session.commit()
        else:
            db.session.rollback()
    status = 422 if form.errors or (report is not None and not report.ok) else 200
    return render_template("directory/import.html", form=form, report=report, problem_text=problem_text,
                           template_languages=TEMPLATE_LANGUAGES, language_name=language_name,
                           max_mb=MAX_BYTES // (1024 * 1024)), status


@bp.route("/template.xlsx")
@require_role("staff", "admin")
def template():
    """Download the Excel template (`?lang=ru|en`), empty or filled with the directory (`?data=1`)."""
    current = get_locale_code()
    lang = request.args.get("lang") or (current if current in TEMPLATE_LANGUAGES else "en")
    if lang not in TEMPLATE_LANGUAGES:  # a 400 naming the choices, as the reports and exports answer
        abort_with_message(400, _("There is no template in “%(value)s”: choose %(choices)s.", value=lang,
                                  choices=", ".join(TEMPLATE_LANGUAGES)))
    with_data = request.args.get("data") == "1"
    name = f"directory-{'export' if with_data else 'template'}-{lang}.xlsx"
    response = send_workbook(services.template_workbook(lang, with_data=with_data), name)
    response.headers["Cache-Control"] = "no-store"  # the filled-in version holds people's contact details
    return response
