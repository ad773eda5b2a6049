"""Sign-in, sign-out, password change and the user administration pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from app.auth import services
from app.auth.forms import ChangePasswordForm, ResetPasswordForm, SignInForm, UserForm
from app.auth.models import User
from app.auth.passwords import generate_password, verify_password
from app.auth.permissions import require_role, signed_in
from app.core import audit
from app.core.urls import safe_next
from app.extensions import db, limiter
from app.i18n import LOCALE_NAMES, _, available_locales, get_locale_code

bp = Blueprint("auth", __name__)


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def _account_key() -> str:
    """The per-account limit's key: the address as sign-in reads it (normalised, so that other spellings of the
    same address, such as full-width letters or an ideographic full stop, count against the same account)."""
    raw = (request.form.get("email") or "").strip()
    try:
        return "account:" + services.normalise_email(raw)
    except services.AccountError:
        return "account:" + raw.lower()


def _limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], deduct_when=_login_failed, scope="sign-in-ip")
@limiter.limit(_limit, methods=["POST"], deduct_when=_login_failed, key_func=_account_key, scope="sign-in-account")
def sign_in():
    """Show the sign-in form; on success go to `next` or the home page."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            g.login_failed = True
            flash(_("The e-mail address or password is wrong, or the account is not active."), "error")
        else:
            _keep_chosen_language(user)
            login_user(user)
            audit.record("user.signed_in", actor=user, object_type="user", object_id=user.id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
    elif request.method == "POST":
        g.login_failed = True
    status = 200 if request.method == "GET" or not form.errors else 422
    if g.get("login_failed"):
        status = 401
    return render_template("auth/sign_in.html", form=form), status


def _keep_chosen_language(user: User) -> None:
    """Save the language chosen with the menu before signing in as the account's preference (committed with the
    sign-in): the saved preference comes first once signed in, so the choice would otherwise be undone."""
    chosen = session.get("locale")
    if chosen in available_locales() and chosen != user.locale:
        user.locale = chosen


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign out and return to the sign-in page."""
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Let a signed-in user change their own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            services.set_password(current_user, form.new_password.data, actor=current_user)
            db.session.commit()
            login_user(current_user._get_current_object())  # the identity includes the hash: renew it
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200


@bp.route("/admin/users")
@require_role("admin")
def users():
    """List every account."""
    return render_template("auth/users.html", users=services.list_users(), reset_form=ResetPasswordForm())


def _fill_choices(form: UserForm) -> None:
    form.locale.choices = [SelectChoice("", _("Same as the browser"))] + [
        SelectChoice(code, LOCALE_NAMES.get(code, code)) for code in available_locales()]
    form.countries.choices = [SelectChoice(c.code, c.name(get_locale_code())) for c in services.all_countries()]


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require_role("admin")
def create_user():
    """Create an account; a generated password is shown once."""
    form = UserForm()
    _fill_choices(form)
    # Respondents' accounts come from their agency's contacts (the directory) when they open their link.
    form.role.choices = [choice for choice in form.role.choices if choice.value != "respondent"]
    if form.validate_on_submit():
        # Only spaces count as left empty, as the field's own check reads them (kept, they made a password no
        # sign-in form accepts: it refuses a blank password)
        typed = form.password.data if (form.password.data or "").strip() else ""
        password = typed or generate_password()
        try:
            user = services.create_user(
                form.email.data, form.role.data, name=form.name.data or "", password=password,
                locale=form.locale.data, country_codes=form.countries.data, actor=current_user,
            )
        except services.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            user.is_active = form.is_active.data
            db.session.commit()
            if not typed:
                flash(_("Account created. Its password is %(password)s — pass it on safely; it is not shown "
                        "again.", password=password), "success")
            else:
                flash(_("Account created."), "success")
            _warn_if_expert_without_countries(user)
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None), 422 if form.errors else 200


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@require_role("admin")
def edit_user(user_id: int):
    """Edit an account's name, role, language, countries and activity."""
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    _fill_choices(form)
    # A respondent's account stays one, and no other account becomes one (`update_user` refuses both too).
    form.role.choices = [choice for choice in form.role.choices if (choice.value == "respondent") == (
        user.role == "respondent")]
    del form.password
    if request.method == "GET":
        form.countries.data = user.country_codes
        form.locale.data = user.locale or ""
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or not form.is_active.data):
            field = form.role if form.role.data != "admin" else form.is_active
            field.errors.append(_("You cannot remove your own administrator rights or deactivate yourself."))
        else:
            try:
                services.update_user(user, name=form.name.data or "", role=form.role.data,
                                     locale=form.locale.data, is_active=form.is_active.data,
                                     country_codes=form.countries.data, actor=current_user)
            except services.AccountError as exc:
                form.role.errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Changes saved."), "success")
                _warn_if_expert_without_countries(user)
                return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user), 422 if form.errors else 200


def _warn_if_expert_without_countries(user: User) -> None:
    if user.role == "expert" and user.is_active and not user.countries:
        flash(_("%(email)s is an expert without a country: they see no answers, dashboards or reports until "
                "you assign one.", email=user.email), "warning")


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@require_role("admin")
def reset_password(user_id: int):
    """Generate a new password for an account and show it once."""
    user = db.session.get(User, user_id) or abort(404)
    form = ResetPasswordForm()
    if user.role == "respondent":
        flash(_("%(email)s answers for an agency and signs in with personal links: there is no password to reset.",
                email=user.email), "warning")
        return redirect(url_for("auth.users"))
    if form.validate_on_submit():
        password = generate_password()
        services.set_password(user, password, actor=current_user, reason="reset")
        db.session.commit()
        flash(_("New password for %(email)s: %(password)s — pass it on safely; it is not shown again.",
                email=user.email, password=password), "success")
    return redirect(url_for("auth.users"))


@bp.route("/staff")
@require_role("staff", "admin")
def staff_home():
    """Staff overview."""
    from app.auth.overview import staff_overview

    return render_template("auth/staff_home.html", overview=staff_overview())


@bp.route("/expert")
@require_role("expert")
def expert_home():
    """The expert's assigned countries."""
    return render_template("auth/expert_home.html", countries=current_user.countries)
