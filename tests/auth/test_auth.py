"""Sign-in, roles, rate limiting, account administration and the users CLI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import extract_csrf, sign_in

NEUTRAL = "The e-mail address or password is wrong, or the account is not active."


def test_each_role_lands_on_its_page(client, make_user, make_country):
    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    expected = {"admin": "/staff", "staff": "/staff", "expert": "/expert", "respondent": "/respondent"}
    for role, path in expected.items():
        user = make_user(role, countries=["KZ"] if role == "expert" else ())
        response = sign_in(client, user.email)
        assert response.status_code == 302
        landing = client.get("/")
        assert landing.headers["Location"].endswith(path), role
        assert client.get(path).status_code == 200
        client.post("/sign-out", data={"csrf_token": extract_csrf(client.get(path).get_data(as_text=True))})


def test_expert_home_lists_only_assigned_countries(client, make_user, make_country):
    make_country("KZ", en="Kazakhstan")
    make_country("TJ", en="Tajikistan")
    expert = make_user("expert", countries=["KZ"])
    sign_in(client, expert.email)
    page = client.get("/expert", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Kazakhstan" in page and "Tajikistan" not in page


@pytest.mark.parametrize("case", ["wrong password", "unknown e-mail", "deactivated"])
def test_failed_sign_in_gives_the_same_neutral_message(client, make_user, db_session, case):
    user = make_user("staff", email="someone@example.org")
    email, password = user.email, "correct horse battery"
    if case == "wrong password":
        password = "not the password"
    elif case == "unknown e-mail":
        email = "nobody@example.org"
    else:
        user.is_active = False
        db_session.commit()
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert NEUTRAL in response.get_data(as_text=True)
    assert client.get("/staff").status_code == 302  # still anonymous


def test_email_is_case_insensitive(client, make_user):
    make_user("staff", email="Mixed.Case@Example.org")
    assert sign_in(client, "MIXED.case@example.ORG").status_code == 302


def test_anonymous_is_sent_to_sign_in_and_back(client, make_user):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/sign-in?next=%2Fadmin%2Fusers" in response.headers["Location"]
    admin = make_user("admin")
    page = client.get("/sign-in?next=/admin/users")
    token = extract_csrf(page.get_data(as_text=True))
    done = client.post("/sign-in?next=/admin/users",
                       data={"email": admin.email, "password": "correct horse battery", "csrf_token": token})
    assert done.headers["Location"].endswith("/admin/users")


def test_sign_in_never_redirects_off_site(client, make_user):
    admin = make_user("admin")
    token = extract_csrf(client.get("/sign-in").get_data(as_text=True))
    done = client.post("/sign-in?next=https://evil.example/x",
                       data={"email": admin.email, "password": "correct horse battery", "csrf_token": token})
    assert "evil.example" not in done.headers["Location"]


@pytest.mark.parametrize("role", ["respondent", "expert", "staff"])
def test_non_admins_get_403_on_admin_pages(client, make_user, role):
    user = make_user(role)
    sign_in(client, user.email)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.get(f"/admin/users/{user.id}").status_code == 403


def test_respondent_gets_403_on_staff_and_expert_pages(client, make_user):
    sign_in(client, make_user("respondent").email)
    assert client.get("/staff").status_code == 403
    assert client.get("/expert").status_code == 403


def test_eleven_wrong_passwords_get_429(client, make_user):
    user = make_user("staff")
    statuses = [sign_in(client, user.email, f"wrong-{i}").status_code for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    page = sign_in(client, user.email, "correct horse battery")
    assert page.status_code == 429
    assert "Wait 15 minutes" in page.get_data(as_text=True)


def test_failures_are_counted_per_account_across_addresses(client, make_user):
    user = make_user("staff")
    for i in range(10):
        token = extract_csrf(client.get("/sign-in").get_data(as_text=True))
        client.post("/sign-in", data={"email": user.email, "password": "x", "csrf_token": token},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
    token = extract_csrf(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"email": user.email, "password": "x", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert response.status_code == 429


def test_other_spellings_of_an_address_count_against_the_same_account(client, make_user):
    """Full-width letters or an ideographic full stop are the same address once normalised: they cannot be used
    to go on guessing after the account's limit is reached."""
    user = make_user("staff", email="staff@example.org")
    spellings = ["staff@ｅxample.org", "staff@example。org", "staff@example．org", "STAFF@example.org"]
    for i in range(10):
        token = extract_csrf(client.get("/sign-in").get_data(as_text=True))
        client.post("/sign-in", data={"email": spellings[i % len(spellings)], "password": "x", "csrf_token": token},
                    environ_base={"REMOTE_ADDR": f"10.0.2.{i + 1}"})
    token = extract_csrf(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"email": "staff@ｅxample.org", "password": "correct horse battery",
                                             "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.0.3.1"})
    assert response.status_code == 429 and user.email == "staff@example.org"


def test_successful_sign_ins_do_not_count_towards_the_limit(client, make_user):
    user = make_user("staff")
    for _ in range(12):
        assert sign_in(client, user.email).status_code == 302
        client.post("/sign-out", data={"csrf_token": extract_csrf(client.get("/staff").get_data(as_text=True))})


def test_admin_creates_user_who_can_sign_in(client, make_user, make_country, db_session):
    from app.auth.models import User

    make_country("KZ", en="Kazakhstan")
    admin = make_user("admin")
    sign_in(client, admin.email)
    token = extract_csrf(client.get("/admin/users/new").get_data(as_text=True))
    response = client.post("/admin/users/new", data={
        "email": "New.Expert@example.org", "name": "New Expert", "role": "expert", "locale": "ru",
        "countries": ["KZ"], "is_active": "y", "password": "", "csrf_token": token,
    }, headers={"Accept-Language": "en"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Its password is" in body
    password = body.split("Its password is ")[1].split(" ")[0]
    created = db_session.scalar(select(User).where(User.email == "new.expert@example.org"))
    assert created.country_codes == ["KZ"] and created.locale == "ru"
    client.post("/sign-out", data={"csrf_token": token})
    assert sign_in(client, "new.expert@example.org", password).status_code == 302


def test_refused_user_form_keeps_what_was_typed(client, make_user):
    admin = make_user("admin")
    sign_in(client, admin.email)
    token = extract_csrf(client.get("/admin/users/new").get_data(as_text=True))
    response = client.post("/admin/users/new", data={
        "email": admin.email, "name": "Typed Name Кириллица", "role": "staff", "locale": "",
        "password": "", "csrf_token": token}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "already exists" in body and 'value="Typed Name Кириллица"' in body


def test_a_password_of_only_spaces_is_taken_as_left_empty_and_one_is_generated(client, make_user):
    """"Account created" with a password of ten spaces, which no sign-in form accepts (it refuses a blank one):
    the account could never be used."""
    admin = make_user("admin")
    sign_in(client, admin.email)
    token = extract_csrf(client.get("/admin/users/new").get_data(as_text=True))
    body = client.post("/admin/users/new", data={
        "email": "spaces@example.org", "name": "Spaces", "role": "staff", "locale": "", "password": " " * 10,
        "is_active": "y", "csrf_token": token}, headers={"Accept-Language": "en"},
        follow_redirects=True).get_data(as_text=True)
    assert "Its password is" in body
    password = body.split("Its password is ")[1].split(" ")[0]
    client.post("/sign-out", data={"csrf_token": extract_csrf(body)})
    assert sign_in(client, "spaces@example.org", password).status_code == 302


def test_a_staff_account_may_not_take_an_agency_contacts_address(client, make_user, make_agency, make_contact):
    """The contact's personal links would have stopped signing in ("belongs to a staff or expert account")."""
    make_contact(make_agency("KZ", "MVD"), email="contact@mvd.kz.example.org")
    admin = make_user("admin")
    sign_in(client, admin.email)
    token = extract_csrf(client.get("/admin/users/new").get_data(as_text=True))
    response = client.post("/admin/users/new", data={
        "email": "Contact@mvd.kz.example.org", "name": "Typed", "role": "expert", "locale": "", "password": "",
        "csrf_token": token}, headers={"Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "contact@mvd.kz.example.org is the address of a contact of MVD" in body and 'value="Typed"' in body


def test_the_new_user_form_sent_twice_at_once_is_refused_not_a_server_error(client, make_user, monkeypatch):
    """Both requests found no account with the address and both inserted one: the second failed on the unique
    address with a 500. Here the first request's account is committed after this one looked."""
    from app.auth import services

    admin = make_user("admin")
    sign_in(client, admin.email)
    token = extract_csrf(client.get("/admin/users/new").get_data(as_text=True))
    make_user("staff", email="twice@example.org")
    monkeypatch.setattr(services, "get_by_email", lambda email: None)  # it looked before that commit
    response = client.post("/admin/users/new", data={
        "email": "twice@example.org", "name": "Typed", "role": "staff", "locale": "", "password": "",
        "csrf_token": token}, headers={"Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "A user with e-mail twice@example.org already exists." in body
    assert 'value="Typed"' in body


def test_user_form_refuses_accounts_that_would_not_work_as_meant(client, make_user, make_country, db_session):
    """Countries ticked for a non-expert are refused (not dropped); respondents are not created here (their
    accounts come from the directory's contacts); an expert without a country is created with a warning; an
    administrator demoting themselves is refused beside the field, with 422."""
    from app.auth.models import User

    make_country("KZ", en="Kazakhstan")
    admin = make_user("admin")
    sign_in(client, admin.email)
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="respondent"' not in page
    token = extract_csrf(page)
    base = {"email": "someone@example.org", "name": "Someone", "locale": "", "is_active": "y", "password": "",
            "csrf_token": token}
    staff = client.post("/admin/users/new", data={**base, "role": "staff", "countries": ["KZ"]},
                        headers={"Accept-Language": "en"})
    assert staff.status_code == 422 and "Only experts are assigned countries" in staff.get_data(as_text=True)
    respondent = client.post("/admin/users/new", data={**base, "role": "respondent"})
    assert respondent.status_code == 422
    assert db_session.scalar(select(User).where(User.email == "someone@example.org")) is None
    expert = client.post("/admin/users/new", data={**base, "role": "expert"}, headers={"Accept-Language": "en"},
                         follow_redirects=True)
    assert "someone@example.org is an expert without a country" in expert.get_data(as_text=True)
    demote = client.post(f"/admin/users/{admin.id}", data={"email": admin.email, "name": "Me", "role": "staff",
                                                           "locale": "", "is_active": "y", "csrf_token": token},
                         headers={"Accept-Language": "en"})
    assert demote.status_code == 422
    assert "You cannot remove your own administrator rights" in demote.get_data(as_text=True)
    db_session.refresh(admin)
    assert admin.role == "admin"
    # Nor can an account be made a respondent's on its edit form: it would keep a password leading nowhere.
    # Nor can a respondent's account (no password, tied to a contact) be given another role.
    from app.auth import services

    staff_roles = {"staff", "expert", "admin"}
    for role, email, wanted, offered, refusal in (
            ("staff", "colleague@example.org", "respondent", staff_roles, "cannot be made a respondent"),
            ("respondent", "contact@mvd.example.org", "expert", {"respondent"}, "cannot be given another role")):
        user = make_user(role, email=email)
        page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
        assert set(re.findall(r'<option (?:selected )?value="(admin|staff|expert|respondent)"', page)) == offered
        refused = client.post(f"/admin/users/{user.id}", data={**base, "email": email, "role": wanted})
        assert refused.status_code == 422
        db_session.refresh(user)
        assert user.role == role
        with pytest.raises(services.AccountError, match=refusal):
            services.update_user(user, name="", role=wanted, locale=None, is_active=True, country_codes=[])


def test_admin_deactivates_and_resets(client, make_user, db_session):
    admin = make_user("admin")
    other = make_user("staff")
    sign_in(client, admin.email)
    token = extract_csrf(client.get(f"/admin/users/{other.id}").get_data(as_text=True))
    client.post(f"/admin/users/{other.id}", data={"name": "x", "role": "staff", "locale": "", "csrf_token": token,
                                                  "email": other.email})
    db_session.refresh(other)
    assert other.is_active is False
    response = client.post(f"/admin/users/{other.id}/reset-password", data={"csrf_token": token},
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    assert f"New password for {other.email}:" in response.get_data(as_text=True)


def test_deactivation_ends_the_accounts_sessions_and_tokens_for_good(app_ctx, client, make_user, db_session):
    """Deactivating blocked the session and the API token at once, but reactivated, the account's session
    cookie and token of before worked again: deactivation is the step taken when an account may be in the wrong
    hands. Reactivated, it signs in afresh (with its password), and needs a new token."""
    from tests.api.helpers import token_for

    admin, other = make_user("admin"), make_user("staff", email="other.staff@example.org")
    headers = token_for(other)
    theirs = app_ctx.test_client()
    assert sign_in(theirs, other.email).status_code == 302
    assert theirs.get("/campaigns/").status_code == 200 and client.get("/api/v1/me", headers=headers).status_code == 200
    sign_in(client, admin.email)
    form = {"name": "x", "role": "staff", "locale": "", "email": other.email,
            "csrf_token": extract_csrf(client.get(f"/admin/users/{other.id}").get_data(as_text=True))}
    assert client.post(f"/admin/users/{other.id}", data=form).status_code == 302  # "Active" unticked
    assert client.post(f"/admin/users/{other.id}", data={**form, "is_active": "y"}).status_code == 302
    db_session.refresh(other)
    assert other.is_active
    assert theirs.get("/campaigns/").status_code == 302  # to sign-in: the session of before is over
    api = app_ctx.test_client()
    assert api.get("/api/v1/me", headers=headers).status_code == 401
    assert sign_in(theirs, other.email).status_code == 302 and theirs.get("/campaigns/").status_code == 200


def test_respondent_accounts_have_no_password_to_reset(client, make_user, db_session):
    """A respondent signs in with personal links: the users list offers no reset, and a reset posted anyway
    explains it instead of making a password nobody can use."""
    from app.auth.models import User

    admin = make_user("admin")
    respondent = User(email="contact@agency.example.org", role="respondent", is_active=True, password_hash=None)
    db_session.add(respondent)
    db_session.commit()
    sign_in(client, admin.email)
    page = client.get("/admin/users", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/admin/users/{respondent.id}/reset-password" not in page and "signs in with personal links" in page
    assert f"/admin/users/{admin.id}/reset-password" in page
    token = extract_csrf(page)
    response = client.post(f"/admin/users/{respondent.id}/reset-password", data={"csrf_token": token},
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "there is no password to reset" in response.get_data(as_text=True)
    db_session.refresh(respondent)
    assert respondent.password_hash is None


def test_an_administrators_password_reset_revokes_the_accounts_api_tokens(client, make_user, db_session):
    """A reset says the account may be in the wrong hands: its API tokens stop working with the old password."""
    from app.api.services import create_token

    admin, other = make_user("admin"), make_user("staff")
    issued = create_token(other, "nightly export")
    db_session.commit()
    bearer = {"Authorization": f"Bearer {issued.secret}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    sign_in(client, admin.email)
    token = extract_csrf(client.get("/admin/users").get_data(as_text=True))
    client.post(f"/admin/users/{other.id}/reset-password", data={"csrf_token": token})
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_password_reset_ends_existing_sessions(client, make_user, db_session):
    from app.auth import services

    user = make_user("staff")
    sign_in(client, user.email)
    assert client.get("/staff").status_code == 200
    services.set_password(user, "another long password")
    db_session.commit()
    assert client.get("/staff").status_code == 302


def test_change_password(client, make_user):
    user = make_user("staff")
    sign_in(client, user.email)
    token = extract_csrf(client.get("/account/password").get_data(as_text=True))
    wrong = client.post("/account/password", data={"current_password": "nope", "new_password": "a new password 1",
                                                  "confirm": "a new password 1", "csrf_token": token},
                        headers={"Accept-Language": "en"})
    assert wrong.status_code == 422 and "The current password is wrong." in wrong.get_data(as_text=True)
    ok = client.post("/account/password", data={"current_password": "correct horse battery",
                                               "new_password": "a new password 1", "confirm": "a new password 1",
                                               "csrf_token": token})
    assert ok.status_code == 302
    client.post("/sign-out", data={"csrf_token": token})
    assert sign_in(client, user.email, "a new password 1").status_code == 302


def test_user_changes_are_audited(client, make_user, db_session):
    from app.core.models import AuditEvent

    make_user("admin")
    actions = [e.action for e in db_session.scalars(select(AuditEvent))]
    assert "user.created" in actions


def test_passwords_are_hashed_with_argon2(make_user):
    user = make_user("staff", password="correct horse battery")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


def test_cli_creates_user_from_stdin_and_lists(app_ctx, make_country):
    make_country("KZ", en="Kazakhstan")
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["users", "create", "cli.expert@example.org", "--role", "expert", "--name", "Cli",
                                 "--country", "KZ"], input="a very long password\n")
    assert result.exit_code == 0, result.output
    assert "Created expert cli.expert@example.org" in result.output and "KZ" in result.output
    listing = runner.invoke(args=["users", "list"])
    assert "cli.expert@example.org\texpert\tactive" in listing.output
    assert sign_in(app_ctx.test_client(), "cli.expert@example.org", "a very long password").status_code == 302


def test_cli_generates_a_password_when_asked(app_ctx):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["users", "create", "gen@example.org", "--role", "staff", "--generate-password"])
    assert result.exit_code == 0
    password = result.output.split("Password: ")[1].strip()
    assert sign_in(app_ctx.test_client(), "gen@example.org", password).status_code == 302


@pytest.mark.parametrize("args, message", [
    (["users", "create", "not-an-email", "--role", "staff", "--generate-password"], "not a valid e-mail"),
    (["users", "create", "x@example.org", "--role", "expert", "--country", "ZZ", "--generate-password"],
     "unknown country code(s): ZZ"),
    # --country was dropped without a word for staff; a respondent made here had a password and no agency
    (["users", "create", "x@example.org", "--role", "staff", "--country", "KZ", "--generate-password"],
     "--country is for experts only"),
    (["users", "create", "x@example.org", "--role", "respondent", "--generate-password"],
     "'respondent' is not one of 'admin', 'staff', 'expert'"),
])
def test_cli_refuses_bad_input(app_ctx, args, message):
    result = app_ctx.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and message in result.output
