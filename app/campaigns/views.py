"""Campaign pages for staff, invitation actions, and the magic link that signs a contact in."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.auth.permissions import require_role
from app.campaigns import services
from app.campaigns.forms import CampaignForm, InviteForm, campaign_form, format_target_lines, parse_target_lines
from app.campaigns.models import Invitation
from app.core.pagination import page_of
from app.directory.models import AGENCY_TYPES, Agency, Country
from app.extensions import db, limiter
from app.i18n import _, available_locales, force_locale, format_date, get_locale_code, interface_locale
from app.mail.errors import error_text

bp = Blueprint("campaigns", __name__)

#: Invitations per page of the campaign page.
INVITATIONS_PER_PAGE = 100

#: Session key holding the invitation a respondent signed in with (their whole scope).
SESSION_KEY = "invitation_id"


def _kind_label(code: str) -> str:
    try:
        from app.directory.labels import agency_type_label
    except ImportError:  # pragma: no cover - the directory package always provides it
        return code
    return agency_type_label(code)


# --- respondent scope on every request -------------------------------------------------------------


@bp.before_app_request
def bind_respondent_scope():
    """Give a link-signed-in respondent's request its invitation; end the session when the link died."""
    g.invitation = None
    if not current_user.is_authenticated or current_user.role != "respondent":
        return None
    invitation_id = session.get(SESSION_KEY)
    if invitation_id is None:
        return None
    invitation = services.scope_invitation(current_user, invitation_id)
    if invitation is None:
        from app.core.errors import abort_with_message, wants_json

        logout_user()
        session.pop(SESSION_KEY, None)
        message = _("Your personal link is no longer valid, so you have been signed out. Ask the project staff for "
                    "a new link.")
        if wants_json():  # a background save: 401 in JSON, which the page tells from a saved answer
            abort_with_message(401, message)
        flash(message, "warning")
        return redirect(url_for("auth.sign_in"))
    g.invitation = invitation
    return None


# --- the magic link -----------------------------------------------------------------------------------


def _link_failed(response) -> bool:
    return bool(g.get("link_failed"))


@bp.route("/i/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["INVITATION_FAILURE_LIMIT"], deduct_when=_link_failed,
               scope="magic-link")
def open_link(token: str):
    """Open a magic link: sign the contact in as the respondent of one agency in one campaign. Someone already
    signed in as another person is asked first (a POST from that page confirms), so that a link opened by
    mistake, or planted, does not silently replace their session."""
    outcome = services.check_link(token)
    if not outcome.ok:
        g.link_failed = True
        invitation = outcome.invitation
        locale = invitation.contact.locale if invitation is not None else get_locale_code()
        status = 404 if outcome.reason == "unknown" else 410
        with force_locale(interface_locale(locale)):
            return render_template("campaigns/link_invalid.html", reason=outcome.reason,
                                   invitation=invitation, lang=locale), status
    invitation = outcome.invitation
    try:
        user = services.respondent_for(invitation.contact)
    except services.AccountInactive:
        g.link_failed = True
        locale = invitation.contact.locale  # the contact's language, as for a revoked or expired link
        with force_locale(interface_locale(locale)):
            return render_template("campaigns/link_invalid.html", reason="inactive", invitation=invitation,
                                   lang=locale), 410
    except services.CampaignError:
        g.link_failed = True
        locale = invitation.contact.locale  # the contact's language, as for a revoked or expired link
        with force_locale(interface_locale(locale)):
            return render_template("campaigns/link_invalid.html", reason="conflict", invitation=invitation,
                                   lang=locale), 409
    if current_user.is_authenticated and current_user.id != user.id and request.method != "POST":
        db.session.rollback()  # nothing of the link is recorded until the person confirms
        return render_template("campaigns/link_confirm.html", invitation=invitation, token=token)
    if current_user.is_authenticated:
        logout_user()
    services.record_opening(invitation, user)
    db.session.commit()
    session.clear()
    login_user(user)
    session[SESSION_KEY] = invitation.id
    session.permanent = False
    return redirect(url_for("responses.respondent_home"))


# --- campaigns ----------------------------------------------------------------------------------------


@bp.route("/campaigns/")
@require_role("staff", "admin", "expert")
def index():
    """The campaigns the person may know of (an expert: those asking agencies of their countries) with their
    status, dates and number of agencies (an expert's own)."""
    return render_template("campaigns/index.html", campaigns=services.campaigns_for(current_user),
                           days_to_deadline=services.days_to_deadline,
                           agency_count=lambda c: services.visible_agency_count(current_user, c))


def _campaign_or_404(campaign_id: int):
    return services.get_campaign(campaign_id) or abort(404)


def _form(**kwargs) -> CampaignForm:
    return campaign_form(available_locales(), current_app.config["DEFAULT_LOCALE"], **kwargs)


def _fill_choices(form: CampaignForm, campaign=None) -> None:
    lang = get_locale_code()
    versions = services.versions()
    form.version.choices = [SelectChoice(v.id, f"{v.questionnaire.slug} v{v.number} — "
                                         f"{v.title.get(lang) or next(iter(v.title.values()), '')}")
                            for v in versions]
    # Campaigns can share a name (a yearly round): each is told apart by its number and deadline.
    form.follow_up_of.choices = [SelectChoice(0, _("(none)"))] + [
        SelectChoice(c.id, f"{c.shown_name} (#{c.id}" + (f", {format_date(c.deadline)})" if c.deadline else ")"))
        for c in services.list_campaigns() if campaign is None or c.id != campaign.id]
    countries = list(db.session.scalars(select(Country).order_by(Country.code)))
    form.pick_countries.choices = [SelectChoice(c.code, c.name(lang)) for c in countries] + [
        SelectChoice("-", _("Regional bodies"))]
    form.pick_kinds.choices = [SelectChoice(k, _kind_label(k)) for k in AGENCY_TYPES]
    agencies = _all_agencies(include_ids=[a.id for a in campaign.agencies] if campaign else [])
    form.agencies.choices = [SelectChoice(a.id, _agency_label(a, lang)) for a in agencies]
    form._agencies = agencies


def _all_agencies(include_ids=()) -> list[Agency]:
    query = select(Agency).where((Agency.is_active.is_(True)) | (Agency.id.in_(list(include_ids) or [-1])))
    agencies = list(db.session.scalars(query))
    return sorted(agencies, key=lambda a: (a.country_code or "~", a.acronym))


def _agency_label(agency: Agency, lang: str) -> str:
    return f"{agency.country_code or _('Regional')} · {agency.acronym} — {agency.name(lang)}"


def _picked_agencies(form: CampaignForm) -> list[int]:
    """Agencies matching the chosen countries and types (both optional), added to the ticked ones."""
    countries, kinds = set(form.pick_countries.data or []), set(form.pick_kinds.data or [])
    if not countries and not kinds:
        return []
    return [a.id for a in form._agencies
            if (not countries or (a.country_code or "-") in countries) and (not kinds or a.kind in kinds)]


def _save(form: CampaignForm, campaign=None):
    version = next(v for v in services.versions() if v.id == form.version.data)
    follow = services.get_campaign(form.follow_up_of.data) if form.follow_up_of.data else None
    kwargs = {
        "version": version, "agencies": services.agencies_by_ids(form.agencies.data or []),
        "opens_on": form.opens_on.data, "deadline": form.deadline.data,
        "description": form.description.data or "", "follow_up_of": follow,
        "target_overrides": parse_target_lines(form.targets.data), "actor": current_user,
    }
    # Names in languages no longer offered (LOCALES) are kept as they are.
    translations = dict(campaign.name_translations or {}) if campaign else {}
    translations.update({code: field.data or "" for code, field in form.translated_names.items()})
    if campaign is None:
        return services.create_campaign(form.name.data, name_translations=translations, **kwargs)
    return services.update_campaign(campaign, name=form.name.data, name_translations=translations, **kwargs)


def _campaign_form_page(form: CampaignForm, campaign=None):
    if request.method == "POST" and request.form.get("action") == "pick":
        form.agencies.data = sorted(set(form.agencies.data or []) | set(_picked_agencies(form)))
        return render_template("campaigns/form.html", form=form, campaign=campaign, grouped=_grouped(form)), 200
    if form.validate_on_submit():
        conflict = _conflict(form, campaign) if campaign is not None else None
        if conflict is not None:
            return render_template("campaigns/form.html", form=form, campaign=campaign, grouped=_grouped(form),
                                   conflict=conflict), 409
        try:
            saved = _save(form, campaign)
        except services.CampaignError as exc:
            field = getattr(form, exc.field or "targets", form.targets)
            field.errors = [*field.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Campaign saved."), "success")
            _warn_about(saved)
            return redirect(url_for(".detail", campaign_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("campaigns/form.html", form=form, campaign=campaign, grouped=_grouped(form)), status


def _warn_about(campaign) -> None:
    """Saved, but probably not what was meant: targets for countries the campaign asks no agency of (they
    change nothing until such an agency is added), and a deadline already past for an open campaign (the
    reminders give that date)."""
    asked = {country.code for country in services.campaign_countries(campaign)}
    idle = sorted(set(campaign.target_overrides or {}) - asked)
    if idle:
        flash(_("The campaign asks no agency of %(countries)s: their target overrides change nothing until one is "
                "added.", countries=", ".join(idle)), "warning")
    days = services.days_to_deadline(campaign)
    if campaign.status == "open" and days is not None and days < 0:
        flash(_("The deadline, %(date)s, has passed: invitations and reminders will give that date. Set a later "
                "deadline if agencies still have time to answer.", date=format_date(campaign.deadline)), "warning")


def _conflict(form: CampaignForm, campaign) -> dict | None:
    """When someone saved the campaign after this edit page was opened: what changed meanwhile (and which of
    the agencies they added or took out this page would undo), with the form's `seen` brought up to date so that
    saving again, once the person has looked, goes through. None when nothing changed."""
    if "seen" not in request.form:
        return None  # not posted by the edit page (a script, a page from before this check): nothing to compare
    try:
        seen = json.loads(form.seen.data or "")
    except (ValueError, RecursionError):
        seen = None
    if not isinstance(seen, dict) or not isinstance(seen.get("agencies", []), list) \
            or not all(type(agency_id) is int for agency_id in seen.get("agencies", [])):
        seen = None  # not what the page wrote: compared as unknown (every part changed)
    changed = services.changed_since(campaign, seen)
    if not changed:
        return None
    state = services.edit_state(campaign)
    form.seen.data = json.dumps(state)
    names = {"name": _("the name or the description"), "version": _("the questionnaire version"),
             "dates": _("the dates"), "follow_up_of": _("the campaign followed up"), "agencies": _("the agencies"),
             "targets": _("the target overrides")}
    ticked = set(form.agencies.data or [])
    now = set(state["agencies"])
    before = set(seen.get("agencies", [])) if isinstance(seen, dict) and "agencies" in changed else now
    added = [a for a in campaign.agencies if a.id not in before and a.id not in ticked]
    removed = list(services.agencies_by_ids(sorted((before - now) & ticked)))
    db.session.rollback()  # nothing was written: the lock taken to compare goes
    return {"parts": ", ".join(names[part] for part in changed), "added": added, "removed": removed}


def _grouped(form: CampaignForm) -> list[tuple[str, list[tuple[Agency, bool]]]]:
    lang, chosen = get_locale_code(), set(form.agencies.data or [])
    groups: dict[str, list[tuple[Agency, bool]]] = {}
    for agency in form._agencies:
        key = agency.country.name(lang) if agency.country else _("Regional bodies")
        groups.setdefault(key, []).append((agency, agency.id in chosen))
    return list(groups.items())


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require_role("staff", "admin")
def new():
    """Create a campaign (as a draft)."""
    form = _form()
    _fill_choices(form)
    if not form.version.choices:
        flash(_("Load a questionnaire first: there is no questionnaire version to ask."), "error")
        return redirect(url_for(".index"))
    if request.method == "GET":
        form.follow_up_of.data = 0
    return _campaign_form_page(form)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@require_role("staff", "admin")
def edit(campaign_id: int):
    """Edit a campaign (the questionnaire version only while it is a draft)."""
    campaign = _campaign_or_404(campaign_id)
    form = _form(obj=campaign) if request.method == "GET" else _form()
    _fill_choices(form, campaign)
    if request.method == "GET":
        for code, field in form.translated_names.items():
            field.data = (campaign.name_translations or {}).get(code, "")
        form.version.data = campaign.version_id
        form.follow_up_of.data = campaign.follow_up_of_id or 0
        form.agencies.data = [a.id for a in campaign.agencies]
        form.targets.data = format_target_lines(campaign.target_overrides)
        form.seen.data = json.dumps(services.edit_state(campaign))
    return _campaign_form_page(form, campaign)


@bp.route("/campaigns/<int:campaign_id>")
@require_role("staff", "admin")
def detail(campaign_id: int):
    """A campaign: settings, agencies, invitations, and the actions open / close / invite."""
    campaign = _campaign_or_404(campaign_id)
    invite_form = InviteForm()
    lang = get_locale_code()
    codes = sorted({a.country_code for a in campaign.agencies if a.country_code})
    names = {c.code: c.name(lang) for c in db.session.scalars(select(Country).where(Country.code.in_(codes)))}
    invite_form.country.choices = [SelectChoice("", _("All countries"))] + [SelectChoice(c, names[c]) for c in codes]
    # one row per contact: their latest link (reminders and clarification requests each send a new one)
    invitations = page_of(services.contact_links(campaign), request.args.get("page", 1, type=int),
                          INVITATIONS_PER_PAGE)
    return render_template("campaigns/detail.html", campaign=campaign, invite_form=invite_form,
                           invitations=invitations, error_text=error_text,
                           days=services.days_to_deadline(campaign), kind_label=_kind_label,
                           contacts=services.active_contact_count(campaign), invitation_page_url=lambda number:
                           url_for(".detail", campaign_id=campaign.id, page=number) + "#invitations")


@bp.route("/campaigns/<int:campaign_id>/status", methods=["POST"])
@require_role("staff", "admin")
def set_status(campaign_id: int):
    """Open or close a campaign."""
    campaign = _campaign_or_404(campaign_id)
    try:
        services.set_status(campaign, request.form.get("status", ""), actor=current_user)
    except services.CampaignError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The campaign is now open.") if campaign.status == "open" else _("The campaign is now closed."),
              "success")
    return redirect(url_for(".detail", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/delete", methods=["POST"])
@require_role("staff", "admin")
def delete(campaign_id: int):
    """Delete a draft campaign."""
    campaign = _campaign_or_404(campaign_id)
    try:
        name = services.delete_draft(campaign, actor=current_user)
    except services.CampaignError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".detail", campaign_id=campaign.id))
    db.session.commit()
    flash(_("The draft “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for(".index"))


@bp.route("/campaigns/<int:campaign_id>/invite", methods=["POST"])
@require_role("staff", "admin")
def invite(campaign_id: int):
    """Issue links and queue invitation e-mails for every contact not yet invited (optionally one country)."""
    campaign = _campaign_or_404(campaign_id)
    form = InviteForm()
    form.validate_on_submit() or abort(400)
    country = (form.country.data or "").strip()
    try:
        issued = services.invite(campaign, actor=current_user, country_codes=[country] if country else None)
    except services.CampaignError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".detail", campaign_id=campaign.id))
    db.session.commit()
    sent = sum(1 for i in issued if i.invitation is not None and i.skipped is None)
    already = sum(1 for i in issued if i.skipped == "already invited")
    flash(_("%(sent)s invitation(s) queued; %(already)s contact(s) already had a valid link.", sent=sent,
            already=already), "success")
    return redirect(url_for(".detail", campaign_id=campaign.id))


def _invitation_or_404(campaign_id: int, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.campaign_id != campaign_id:
        abort(404)
    return invitation


def _back(campaign_id: int):
    from app.core.urls import safe_next

    return redirect(safe_next(request.form.get("next")) or url_for(".detail", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/invitations/<int:invitation_id>/resend", methods=["POST"])
@require_role("staff", "admin")
def resend(campaign_id: int, invitation_id: int):
    """Send the contact a new link (the earlier one stays valid unless revoked)."""
    invitation = _invitation_or_404(campaign_id, invitation_id)
    try:
        services.reissue(invitation, actor=current_user)
    except services.CampaignError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        # queued: the outbox sends it (right after this page, or later when the mail server is down)
        flash(_("A new link for %(email)s is queued for sending (see the outbox).", email=invitation.contact.email),
              "success")
    return _back(campaign_id)


@bp.route("/campaigns/<int:campaign_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@require_role("staff", "admin")
def revoke(campaign_id: int, invitation_id: int):
    """Make the contact's links to this campaign unusable at once (every one: each reminder sent a new one)."""
    invitation = _invitation_or_404(campaign_id, invitation_id)
    services.revoke_contact_links(invitation, actor=current_user)
    db.session.commit()
    flash(_("Every link of %(email)s to this campaign has been revoked.", email=invitation.contact.email),
          "success")
    return _back(campaign_id)
