"""The offline workbook against what goes wrong: a damaged sheet inside an otherwise valid file, a
multiple-choice cell with an absurd number of answers, a colleague's answer changed between the preview and
the confirmation, long Russian section titles and units that end with a period."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import date
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import post_multipart
from tests.responses.test_form import new_client, open_link, post_section
from tests.responses.test_workbook import (
    PLAN,
    PROFILE,
    QUESTIONNAIRE,
    answer,
    answer_cell,
    download,
    fill,
    find,
    import_,
    ref,
    stored,
    to_bytes,
    validations,
)

DAMAGED = "The workbook is damaged and cannot be read. Upload the workbook downloaded from this site, saved as .xlsx."


@pytest.fixture
def world(db_session, make_version, make_agency, make_user, tmp_path):
    """As in test_workbook: an open campaign over KZ/MVD and KZ/AFM. `world.using(path)` builds the same world
    on another questionnaire file instead."""
    from app.campaigns import services as campaigns
    from app.responses.services import ensure_response

    def build(path=QUESTIONNAIRE, acronyms=("MVD", "AFM")):
        version = make_version(path)
        agencies = [make_agency("KZ", acronym, en=f"Agency {acronym}", ru=f"Ведомство {acronym}")
                    for acronym in acronyms]
        campaign = campaigns.create_campaign(f"Round {acronyms[0]}", version, agencies=agencies,
                                             deadline=date(2030, 6, 30))
        campaigns.set_status(campaign, "open")
        response = ensure_response(campaign, agencies[0])
        db_session.commit()
        return SimpleNamespace(campaign=campaign, version=version, response=response, user=make_user("staff"))

    built = build()
    built.using = lambda text: build(_variant(tmp_path, text), ("ABC", "XYZ"))
    return built


def _variant(tmp_path, replacements: dict[str, str]):
    """The workbook questionnaire with some of its text replaced (each must occur)."""
    text = QUESTIONNAIRE.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"variant-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _with_member_cut(data: bytes, member: str) -> bytes:
    """The same .xlsx with one of its files cut to half its length (a damaged sheet in a valid ZIP)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, content[:len(content) // 2] if item.filename == member else content)
    return buffer.getvalue()


def _sheet_file(data: bytes, title: str) -> str:
    """The ZIP member holding the sheet with this title."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    escaped = html.escape(title, quote=True)
    rid = re.search(rf'<sheet [^>]*name="{re.escape(escaped)}"[^>]*r:id="([^"]+)"', workbook).group(1)
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels) or \
        re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


# --- 1. a damaged sheet --------------------------------------------------------------------------------


@pytest.mark.parametrize("sheet", ["Agency profile staffbudget 2024", "_meta"], ids=["section", "hidden-info"])
def test_a_damaged_sheet_is_refused_as_a_damaged_workbook(world, db_session, sheet):
    book = fill(download(world.response, "en"), staff_total=300, remarks="kept?")
    data = to_bytes(book)
    member = _sheet_file(data, sheet)
    assert member == ("xl/worksheets/sheet2.xml" if sheet != "_meta" else "xl/worksheets/sheet6.xml")
    damaged = _with_member_cut(data, member)
    openpyxl.load_workbook(io.BytesIO(damaged), read_only=True).close()  # opens: only reading the sheet fails

    for apply in (False, True):
        outcome = import_(world, damaged, apply=apply)
        assert [(p.message, p.fatal) for p in outcome.problems] == [(DAMAGED, True)]
        assert outcome.changes == [] and not outcome.applied
    db_session.commit()
    assert stored(db_session, world.response) == {}


def test_a_damaged_sheet_on_the_web_and_on_the_command_line(app_ctx, db_session, make_country, make_agency,
                                                           make_contact, make_version, tmp_path):
    from app.campaigns import services as campaigns

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    mvd = make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    make_contact(mvd, email="first@mvd.example.org", name="Erlan First", locale="en")
    campaign = campaigns.create_campaign("Round 1", make_version(QUESTIONNAIRE), agencies=[mvd])
    campaigns.set_status(campaign, "open")
    (link,) = [i.link for i in campaigns.invite(campaign, send_email=False)]
    db_session.commit()
    client = open_link(new_client(app_ctx), link)
    book = openpyxl.load_workbook(io.BytesIO(client.get("/respondent/workbook.xlsx").data))
    data = to_bytes(fill(book, staff_total=300))
    damaged = _with_member_cut(data, "xl/worksheets/sheet2.xml")

    response = post_multipart(client, "/respondent/workbook", {"csrf_token": client.csrf,
                                                               "file": (damaged, "filled.xlsx")})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422, page
    assert "Nothing was saved" in page and DAMAGED in page and 'name="token"' not in page
    # a file refused as a whole does not ask to correct cells it has not named
    assert "Nothing was saved: this file cannot be imported" in page and "correct these cells" not in page
    wrong = post_multipart(client, "/respondent/workbook", {"csrf_token": client.csrf,
                                                            "file": (to_bytes(fill(book, answered_on="31.02.2026")),
                                                                     "filled.xlsx")})
    page = html.unescape(wrong.get_data(as_text=True))
    assert wrong.status_code == 422 and "Nothing was saved: correct these cells" in page
    assert "There is no such date: 31.02.2026. Check the day and the month." in page

    path = tmp_path / "damaged.xlsx"
    path.write_bytes(_with_member_cut(data, "xl/worksheets/sheet6.xml"))
    result = app_ctx.test_cli_runner().invoke(args=["responses", "import-workbook", str(path), "--yes"])
    assert result.exit_code == 1 and result.output.strip() == DAMAGED
    assert _web_stored(db_session, campaign) == {}


# --- 2. a multiple-choice cell with an absurd number of answers ----------------------------------------


def test_a_cell_with_twenty_thousand_answers_is_refused_with_its_cell(world, db_session):
    """Matching every run of pieces against the labels took hours for such a cell; it is now refused at once.
    (Bounded by construction: a slow matcher makes this test hang instead of passing.)"""
    pieces = ["Other"] * 2000 + [""] * 18_000  # 20,000 pieces within Excel's 32,767 characters of a cell
    book = fill(download(world.response, "en"), training_topics=";".join(pieces), staff_total=12)
    outcome = import_(world, to_bytes(book), apply=True)
    assert [(p.sheet, p.cell, p.message) for p in outcome.problems] == [
        ("Counter-terrorism unit and its…", ref(book, "training_topics"),
         "This cell lists 20000 answers separated by “;” or line breaks, more than the 1000 that can be read: "
         "write each chosen answer once.")]
    assert not outcome.applied and outcome.changes == []
    db_session.commit()
    assert stored(db_session, world.response) == {}


def test_labels_with_semicolons_stay_whole(world, db_session):
    """A regression guard for the faster matching: a label that itself holds ";" is still one answer."""
    other = world.using({"{en: Human rights, ru: Права человека}":
                         "{en: 'Human rights; gender; equality', ru: 'Права человека; гендер; равенство'}",
                         "{en: Other, ru: Другое}": "{en: Other;, ru: Другое;}"})
    book = fill(download(other.response, "en"),
                training_topics="human rights; Gender; equality;Digital evidence\nПрава человека; гендер; равенство;"
                                "Other;; financing")
    outcome = import_(other, to_bytes(book), apply=True)
    assert outcome.problems == []
    db_session.commit()
    assert stored(db_session, other.response) == {"training_topics": ["financing", "digital", "rights", "other"]}


def test_labels_with_commas_stay_whole_when_the_answers_are_separated_by_commas(world, db_session):
    """The instructions ask for ";", but commas are understood too: a label that itself holds commas stays one
    answer there as well (the whole cell was quoted back as one unknown answer)."""
    other = world.using({"{en: Human rights, ru: Права человека}":
                         "{en: 'Human rights (fair trial, privacy)', ru: 'Права человека (суд, частная жизнь)'}"})
    book = fill(download(other.response, "en"),
                training_topics="Human rights (fair trial, privacy), Digital evidence, financing")
    outcome = import_(other, to_bytes(book), apply=True)
    assert outcome.problems == []
    db_session.commit()
    assert stored(db_session, other.response) == {"training_topics": ["financing", "digital", "rights"]}
    book = fill(download(other.response, "ru"), training_topics="Права человека (суд, частная жизнь), Нечто")
    outcome = import_(other, to_bytes(book), apply=True)  # one unknown: the whole cell is named, as before
    assert [p.message for p in outcome.problems] == [
        "“Права человека (суд, частная жизнь), Нечто” is not one of the allowed answers (see the column "
        "“Допустимые ответы”)."]  # the column as the Russian workbook heads it


# --- 3. a colleague's answer changed between the preview and the confirmation --------------------------


@pytest.fixture
def two_contacts(app_ctx, db_session, make_country, make_agency, make_contact, make_version):
    """An open campaign on the workbook questionnaire; contacts A and B of one agency, each signed in."""
    from app.campaigns import services as campaigns

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    mvd = make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    make_contact(mvd, email="a@mvd.example.org", name="Erlan A", locale="en")
    make_contact(mvd, email="b@mvd.example.org", name="Aigul B", locale="en")
    campaign = campaigns.create_campaign("Round 1", make_version(QUESTIONNAIRE), agencies=[mvd])
    campaigns.set_status(campaign, "open")
    links = {i.contact.email: i.link for i in campaigns.invite(campaign, send_email=False)}
    db_session.commit()
    return SimpleNamespace(a=open_link(new_client(app_ctx), links["a@mvd.example.org"]),
                           b=open_link(new_client(app_ctx), links["b@mvd.example.org"]), campaign=campaign)


def _web_stored(db_session, campaign) -> dict:
    """The stored answers of the campaign's only response, as committed."""
    from app.responses.models import Answer, Response

    db_session.rollback()
    values = {a.question_id: a.value for a in db_session.scalars(
        select(Answer).join(Response).where(Response.campaign_id == campaign.id))}
    db_session.rollback()
    return values


def test_confirming_does_not_overwrite_a_colleagues_newer_answer_unseen(two_contacts, db_session):
    a, b = two_contacts.a, two_contacts.b
    assert post_section(a, 1, {"q__agency_name": "Original"}).status_code == 302
    book = openpyxl.load_workbook(io.BytesIO(a.get("/respondent/workbook.xlsx").data))
    fill(book, agency_name="From the workbook", staff_total=300)
    preview = post_multipart(a, "/respondent/workbook", {"csrf_token": a.csrf,
                                                         "file": (to_bytes(book), "filled.xlsx")})
    page = html.unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200, page
    assert "Original" in page and "From the workbook" in page and "after you checked the workbook" not in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)

    # Meanwhile, contact B changes the same answer on the website.
    assert post_section(b, 1, {"q__agency_name": "Colleague's newer value"}).status_code == 302

    confirm = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": token})
    page = html.unescape(confirm.get_data(as_text=True))
    assert confirm.status_code == 409, page
    assert "Nothing was saved: answers were changed on the website after you checked the workbook" in page
    row = re.search(r"<tr><th scope=\"row\">Name of the agency.*?</tr>", page, re.S).group(0)
    assert "changed on the website after you checked the workbook (Aigul B" in row
    assert "<td>Colleague's newer value</td><td>From the workbook</td>" in row  # both values
    assert "<td>300</td>" in page  # the other change is listed again, not saved either
    assert _web_stored(db_session, two_contacts.campaign) == {"agency_name": "Colleague's newer value"}
    new_token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert new_token != token
    stale = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": token})
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/respondent/workbook")

    # Having seen both values, A keeps the workbook's.
    saved = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": new_token})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert _web_stored(db_session, two_contacts.campaign) == {"agency_name": "From the workbook",
                                                              "staff_total": 300}


def _preview_token(client, book) -> str:
    preview = post_multipart(client, "/respondent/workbook", {"csrf_token": client.csrf,
                                                              "file": (to_bytes(book), "filled.xlsx")})
    page = html.unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200, page
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_a_colleagues_change_to_another_answer_after_the_preview_is_checked_again(two_contacts, db_session):
    """B changes an answer the workbook does not touch, but on which a previewed change depends (it hides the
    question): the confirmation would save less than the preview showed, without a word. Nothing is saved; the
    check is made again, naming the other answer, and its confirmation saves what it shows."""
    a, b = two_contacts.a, two_contacts.b
    assert post_section(a, 1, {"q__staff_total": "100"}).status_code == 302
    assert post_section(a, 2, {"q__has_ct_unit": "yes"}).status_code == 302
    book = openpyxl.load_workbook(io.BytesIO(a.get("/respondent/workbook.xlsx").data))
    fill(book, ct_unit_staff=12, agency_name="MVD")
    token = _preview_token(a, book)
    assert post_section(b, 2, {"q__has_ct_unit": "no"}).status_code == 302  # hides ct_unit_staff

    confirm = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": token})
    page = html.unescape(confirm.get_data(as_text=True))
    assert confirm.status_code == 409, page
    notice = re.search(r'<div class="error-summary"[^>]*id="preview-outdated".*?</div>', page, re.S).group(0)
    assert "Nothing was saved: answers were changed on the website after you checked the workbook" in notice
    assert "Other answers changed too" in notice and "<li>Does the agency have a dedicated CT unit?</li>" in notice
    assert _web_stored(db_session, two_contacts.campaign) == {"has_ct_unit": "no", "staff_total": 100}
    # the check made again: the unit's staff is now not read, the two other answers change
    assert "Staff of the unit" in re.search(r'id="not-read".*?</div>', page, re.S).group(0)
    new_token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    saved = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": new_token})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert _web_stored(db_session, two_contacts.campaign) == {"has_ct_unit": "no", "agency_name": "MVD",
                                                              "staff_total": 100}


def test_a_colleagues_change_that_makes_a_read_answer_apply_is_not_saved_unseen(two_contacts, db_session):
    """The preview said the unit's staff was not read (the question did not apply); B then makes it apply:
    confirming must not save the 12 that the preview said it would leave out."""
    a, b = two_contacts.a, two_contacts.b
    assert post_section(a, 2, {"q__has_ct_unit": "no"}).status_code == 302
    book = openpyxl.load_workbook(io.BytesIO(a.get("/respondent/workbook.xlsx").data))
    fill(book, ct_unit_staff=12, agency_name="MVD", staff_total=100)
    token = _preview_token(a, book)
    assert post_section(b, 2, {"q__has_ct_unit": "yes"}).status_code == 302
    confirm = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": token})
    assert confirm.status_code == 409
    assert _web_stored(db_session, two_contacts.campaign) == {"has_ct_unit": "yes"}
    page = html.unescape(confirm.get_data(as_text=True))
    row = re.search(r'<tr><th scope="row">Staff of the unit.*?</tr>', page, re.S).group(0)
    assert "<td>12</td>" in row  # now shown as a change, to be confirmed knowingly


def test_an_untouched_old_workbook_changes_nothing_and_does_not_claim_to_equal_the_website(two_contacts,
                                                                                          db_session):
    a, b = two_contacts.a, two_contacts.b
    assert post_section(a, 1, {"q__agency_name": "Before"}).status_code == 302
    book = openpyxl.load_workbook(io.BytesIO(a.get("/respondent/workbook.xlsx").data))
    assert post_section(b, 1, {"q__agency_name": "After"}).status_code == 302
    upload = post_multipart(a, "/respondent/workbook", {"csrf_token": a.csrf, "file": (to_bytes(book), "old.xlsx")})
    page = html.unescape(upload.get_data(as_text=True))
    assert upload.status_code == 200
    assert ("Nothing to change: the workbook changes no answer since it was downloaded, or its changes are "
            "already on the website.") in page
    assert "same answers as the website" not in page and 'name="token"' not in page
    assert _web_stored(db_session, two_contacts.campaign) == {"agency_name": "After"}


def test_confirming_twice_says_saved_once_and_not_expired(two_contacts, db_session):
    a = two_contacts.a
    book = openpyxl.load_workbook(io.BytesIO(a.get("/respondent/workbook.xlsx").data))
    fill(book, agency_name="MVD")
    token = _preview_token(a, book)
    first = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": token})
    assert first.status_code == 302
    a.get(first.headers["Location"])  # the flash of the first press is shown
    second = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": token})
    assert second.status_code == 302 and second.headers["Location"].endswith("/respondent")
    page = html.unescape(a.get(second.headers["Location"]).get_data(as_text=True))
    assert "The answers from the workbook are saved." in page and "expired" not in page
    assert _web_stored(db_session, two_contacts.campaign) == {"agency_name": "MVD"}
    # a token never issued is still "expired"
    unknown = a.post("/respondent/workbook", data={"csrf_token": a.csrf, "token": "no-such-token"})
    assert unknown.headers["Location"].endswith("/respondent/workbook")


def test_an_answer_the_preview_did_not_change_is_not_reverted_unseen(world, db_session):
    """The cell differs from the download but equalled the website at the preview (no change shown); when the
    website changes again before the confirmation, the workbook would undo that change: shown, not saved."""
    answer(world, db_session, staff_total=10)
    book = fill(download(world.response, "en"), staff_total=20, remarks="note")
    answer(world, db_session, staff_total=20)
    preview = import_(world, to_bytes(book), apply=False)
    assert [(c.question_id, c.old, c.new) for c in preview.changes] == [("remarks", "", "note")]
    answer(world, db_session, staff_total=30)

    from app.responses.workbook import import_workbook

    outcome = import_workbook(to_bytes(book), response=world.response, actor=world.user, lang="en", apply=True,
                              seen_versions=preview.versions)
    assert not outcome.applied and outcome.problems == []
    assert [(c.question_id, c.old, c.new, c.changed_since_preview) for c in outcome.changes] == [
        ("staff_total", "30", "20", True), ("remarks", "", "note", False)]
    db_session.commit()
    assert stored(db_session, world.response) == {"staff_total": 30}
    # Confirmed again with what was shown: saved.
    again = import_workbook(to_bytes(book), response=world.response, actor=world.user, lang="en", apply=True,
                            seen_versions=outcome.versions)
    assert again.applied
    db_session.commit()
    assert stored(db_session, world.response) == {"staff_total": 20, "remarks": "note"}


# --- 4. long Russian section titles --------------------------------------------------------------------


def test_long_titles_are_cut_after_a_whole_word():
    from app.responses.workbook import sheet_title

    taken: set[str] = set()
    long = "Правовая и институциональная основа противодействия терроризму"
    titles = [sheet_title(long, taken, "Раздел"), sheet_title(long, taken, "Раздел"),
              sheet_title("Межведомственное: взаимодействие и сотрудничество", taken, "Раздел"),
              sheet_title("Противодействиефинансированиютерроризма", taken, "Раздел")]
    assert titles == ["Правовая и институциональная…", "Правовая и… (2)", "Межведомственное…",
                      "Противодействиефинансированиютерроризма"[:30] + "…"]
    assert all(len(t) <= 31 for t in titles)


def test_russian_sheets_end_with_an_ellipsis_and_are_still_read(world, db_session):
    book = download(world.response, "ru")
    assert book.sheetnames[1:4] == ["Сведения о ведомстве…", "Подразделение по…", "Подразделение по… (2)"]
    fill(book, staff_total=7, remarks="из книги")
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == [] and {c.question_id for c in outcome.changes} == {"staff_total", "remarks"}

    # A workbook downloaded before the change, with the sheets named by cutting at 31 characters: the sheets
    # are found by the question ids in column A, not by their names.
    old = download(world.response, "ru")
    for sheet, name in zip(old.worksheets[1:4], ["Сведения о ведомстве штатбюджет", "Подразделение по противодействи",
                                                 "Подразделение по противодей (2)"], strict=True):
        sheet.title = name
    fill(old, staff_total=8)
    outcome = import_(world, to_bytes(old), apply=True)
    assert outcome.problems == [] and [(c.question_id, c.new) for c in outcome.changes] == [("staff_total", "8")]
    db_session.commit()
    assert stored(db_session, world.response) == {"staff_total": 8, "remarks": "из книги"}


# --- 5. units that end with a period -------------------------------------------------------------------


def test_a_unit_ending_with_a_period_is_not_followed_by_another(world):
    other = world.using({"unit: {en: million tenge, ru: млн тенге}": "unit: {en: pers., ru: чел.}"})
    book = download(other.response, "en")
    sheet, row = find(book, "budget")
    assert sheet.cell(row=row, column=5).value == "A number (pers.). At least 0. Or: Don't know."
    assert validations(sheet)[answer_cell(book, "budget").coordinate].error == \
        "A number (pers.). At least 0. Or: Don't know."
    for lang in ("en", "ru"):
        book = download(other.response, lang)
        sheet, row = find(book, "budget")
        texts = [sheet.cell(row=row, column=5).value,
                 validations(sheet)[answer_cell(book, "budget").coordinate].error]
        assert all(".." not in text for text in texts), texts
        assert all(("(pers.)" if lang == "en" else "(чел.)") in text for text in texts), texts


def test_uploads_left_waiting_for_confirmation_are_deleted_after_a_day(app_ctx, tmp_path):
    """A workbook uploaded for a preview and never confirmed (the page was left) does not stay on the server:
    the next upload deletes those older than PENDING_HOURS; recent ones wait for their confirmation."""
    import os
    import time

    from app.responses import respond

    with app_ctx.test_request_context():
        pending = respond._pending_dir()
        pending.mkdir(parents=True, exist_ok=True)
        old, recent = pending / "old-token.xlsx", pending / "recent-token.xlsx"
        for path in (old, old.with_suffix(".json"), recent, recent.with_suffix(".json")):
            path.write_bytes(b"x")
        two_days_ago = time.time() - 48 * 3600
        for path in (old, old.with_suffix(".json")):
            os.utime(path, (two_days_ago, two_days_ago))
        token = respond._keep_pending(b"new workbook", {"q": 1})
        assert not old.exists() and not old.with_suffix(".json").exists()
        assert recent.exists() and recent.with_suffix(".json").exists()
        assert respond._pending_path(token).read_bytes() == b"new workbook"


def test_a_sheet_with_a_million_rows_is_refused_early(world, db_session):
    """Rows appended far beyond the questionnaire (here each repeating a question, which gave one problem per
    row, a 180 MB page and a minute of work) stop the reading with one message naming the sheet."""
    book = download(world.response, "en")
    sheet = book["Counter-terrorism unit and its…"]
    for _ in range(5000):
        sheet.append(["staff_total", "", "", "", 1])
    outcome = import_(world, to_bytes(book), apply=True)
    assert len(outcome.problems) <= 202
    assert outcome.problems[-1].sheet == "Counter-terrorism unit and its…"
    assert "rows, far more than the questionnaire" in outcome.problems[-1].message or \
        "problems: the first ones are listed" in outcome.problems[-1].message
    assert not outcome.applied
    db_session.commit()
    assert stored(db_session, world.response) == {}


# --- cells as Excel keeps them: percentages, formula errors, every unknown matrix row, moved columns --------


def test_a_number_typed_as_a_percentage_is_read_as_the_number_shown(world, db_session):
    """Typing "12.5%" in Excel stores 0.125 in a cell formatted as a percentage: the person meant 12.5."""
    book = download(world.response, "en")
    cell = answer_cell(book, "budget")
    cell.value, cell.number_format = 0.125, "0.0%"
    # A percent sign that is only text in the format (quoted, or escaped) shows the number as typed.
    staff = answer_cell(book, "staff_total")
    staff.value, staff.number_format = 300, '0" %"'
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == []
    db_session.commit()
    assert stored(db_session, world.response) == {"budget": 12.5, "staff_total": 300}


def _with_error_result(data: bytes, member: str, cell_ref: str) -> bytes:
    """The same .xlsx with the answer cell `cell_ref` of one sheet made a formula whose saved result is #DIV/0!, as
    Excel saves =1/0."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == member:
                text = content.decode("utf-8")
                cell = re.search(rf'<c r="{cell_ref}"[^>]*?(?:/>|>.*?</c>)', text, re.S)
                assert cell, cell_ref
                text = text.replace(cell.group(0), f'<c r="{cell_ref}" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
                content = text.encode("utf-8")
            target.writestr(item.filename, content)
    return buffer.getvalue()


def test_a_formula_whose_result_is_an_error_is_refused_with_its_cell(world, db_session):
    book = fill(download(world.response, "en"), agency_name="Ministry", staff_total=300)
    data = to_bytes(book)
    for ident in ("agency_name", "staff_total"):
        data = _with_error_result(data, _sheet_file(data, PROFILE), ref(book, ident).split("!")[1])
    outcome = import_(world, data, apply=True)
    assert [(p.cell, p.message) for p in outcome.problems] == [
        (ref(book, ident), "This cell holds an error value (#DIV/0!), the result of a formula or typed as such, so "
                           "there is no answer to read. Correct the formula, or type the answer itself.")
        for ident in ("agency_name", "staff_total")]
    assert not outcome.applied
    db_session.commit()
    assert stored(db_session, world.response) == {}


def test_every_unknown_row_of_a_matrix_is_listed_at_once(world, db_session):
    book = fill(download(world.response, "en"), cooperation__police="Sometimes", cooperation__customs="Rarely",
                staff_total=300)
    outcome = import_(world, to_bytes(book), apply=True)
    assert [(p.cell, p.message) for p in outcome.problems] == [
        (ref(book, "cooperation/police"), "“Sometimes” is not one of the allowed answers: choose one from the cell's "
                                          "drop-down list."),
        (ref(book, "cooperation/customs"), "“Rarely” is not one of the allowed answers: choose one from the cell's "
                                           "drop-down list.")]


def test_a_refused_row_of_a_table_is_named_by_its_own_cell(world, db_session):
    """"Not applicable" typed in the second row of a table that does not offer it: the problem names that row's
    cell (it named the table's first row)."""
    book = fill(download(world.response, "en"), skills__interviewing="Partial", skills__forensics="Not applicable",
                staff_total=300)
    outcome = import_(world, to_bytes(book), apply=True)
    assert [(p.cell, p.message) for p in outcome.problems] == [
        (ref(book, "skills/forensics"), "“Not applicable” is not an allowed answer to this question.")]
    assert ref(book, "skills/forensics") != ref(book, "skills/interviewing")


@pytest.mark.parametrize("change", ["insert", "delete"])
def test_a_sheet_whose_columns_were_moved_is_refused_and_nothing_is_cleared(world, db_session, change):
    """With a column inserted before the answers (or the hints deleted), column D no longer holds the answers:
    reading it would take hints for answers and clear the answers. The sheet is refused instead."""
    from flask import current_app

    from app.responses import answering

    answering.save_answers(world.response, {"staff_total": "300", "agency_name": "Ministry"}, actor=world.user,
                           channel="cli", lang="en")
    db_session.commit()
    book = download(world.response, "en")
    sheet = answer_cell(book, "staff_total").parent
    if change == "insert":
        sheet.insert_cols(3)
        sheet.cell(row=1, column=3).value = "My notes"
    else:
        sheet.delete_cols(3)
    outcome = import_(world, to_bytes(book), apply=True)
    assert [(p.sheet, p.cell) for p in outcome.problems] == [(PROFILE, "")]
    assert outcome.problems[0].message.startswith("The columns of this sheet have been moved: the answers must be "
                                                  "in column D, under the heading “Answer”")
    # the sheet is named wherever the problem is shown (the page and the command line said "this sheet" only)
    assert str(outcome.problems[0]).startswith(f"sheet “{PROFILE}”: The columns of this sheet have been moved")
    assert not outcome.applied and outcome.changes == []
    db_session.commit()
    assert stored(db_session, world.response) == {"staff_total": 300, "agency_name": "Ministry"}
    # A Russian workbook has its headings in Russian: read as before, also once the site offers English only.
    russian = fill(download(world.response, "ru"), staff_total=310)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(current_app.config, "LOCALES", ["en"])
        patch.setitem(current_app.config, "DEFAULT_LOCALE", "en")
        assert import_(world, to_bytes(russian), apply=False, lang="en").problems == []
    # Rows inserted above the headings (the sheet has no password) move nothing that is read: accepted.
    sheet = answer_cell(russian, "staff_total").parent
    sheet.insert_rows(1, amount=2)
    sheet["B1"] = "Filled in by the legal department"
    assert import_(world, to_bytes(russian), apply=True, lang="ru").problems == []
    db_session.commit()
    assert stored(db_session, world.response)["staff_total"] == 310


def test_an_answer_to_a_question_that_does_not_apply_is_named_as_not_read(app_ctx, world, db_session, tmp_path):
    """"No" dedicated unit hides "Staff of the unit": a number typed there is left out, and the preview, the
    page and the command line say so (before, it was dropped without a word)."""
    book = fill(download(world.response, "en"), has_ct_unit="No", ct_unit_staff=40, staff_total=300)
    outcome = import_(world, to_bytes(book), apply=False)
    assert outcome.problems == []
    assert [c.question_id for c in outcome.changes] == ["staff_total", "has_ct_unit"]
    assert outcome.not_applicable == [("Staff of the unit", ref(book, "ct_unit_staff"))]
    path = tmp_path / "filled.xlsx"
    book.save(path)
    result = app_ctx.test_cli_runner().invoke(args=["responses", "import-workbook", str(path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert f"{ref(book, 'ct_unit_staff')}: not read: Staff of the unit does not apply given the other answers" \
        in result.output
    db_session.rollback()
    assert stored(db_session, world.response) == {}
    # an answer stored while the unit existed, its cell emptied with the "No" (to clear it): the cell held
    # nothing to leave out, so it is not listed as "not read"
    from app.responses import answering

    answering.save_answers(world.response, {"has_ct_unit": "yes", "ct_unit_staff": "40", "staff_total": "300"},
                           actor=world.user, channel="cli", lang="en")
    db_session.commit()
    emptied = fill(download(world.response, "en"), has_ct_unit="No", ct_unit_staff=None)
    assert import_(world, to_bytes(emptied), apply=False).not_applicable == []


def test_what_is_typed_in_a_file_cell_or_a_row_that_is_no_question_is_named_as_not_read(
        app_ctx, world, db_session, tmp_path):
    """A file is added on the website, and a note or a row added by hand takes no answer: what is typed there is
    left out, and the preview, the page and the command line say so, cell by cell (before, without a word). A
    cell left as downloaded says nothing, nor does a file cell whose files changed on the website since."""
    from app.responses.answering import save_answers

    assert save_answers(world.response, {"plan": PLAN}, actor=world.user, channel="web", lang="en").ok
    db_session.commit()
    untouched = download(world.response, "en")
    assert answer_cell(untouched, "plan").value == "План действий.pdf"
    assert import_(world, to_bytes(fill(untouched, staff_total=300)), apply=False).not_imported == []

    book = fill(download(world.response, "en"), staff_total=300, plan="Plan 2026, final.pdf")
    sheet, _row = find(book, "agency_name")
    [note_row] = [cell.row for cell in sheet["B"] if cell.value == "Figures are for the last full year."]
    sheet.cell(row=note_row, column=4).value = "2025"
    sheet.cell(row=sheet.max_row + 2, column=4).value = "Signed by the head of unit"
    outcome = import_(world, to_bytes(book), apply=False)
    assert outcome.problems == [] and [c.question_id for c in outcome.changes] == ["staff_total"]
    assert outcome.not_imported == [
        ("The unit's action plan", ref(book, "plan")),
        ("Figures are for the last full year.", f"{sheet.title}!D{note_row}"),
        ("a row without a question id in column A", f"{sheet.title}!D{sheet.max_row}")]
    path = tmp_path / "filled.xlsx"
    book.save(path)
    result = app_ctx.test_cli_runner().invoke(args=["responses", "import-workbook", str(path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert f"{ref(book, 'plan')}: not read: The unit's action plan (files are added on the website" in result.output
    assert f"{sheet.title}!D{note_row}: not read: Figures are for the last full year." in result.output
    db_session.rollback()
    # Another file uploaded on the website after the download: the cell shows the older name, nothing to say.
    assert save_answers(world.response, {"plan": {**PLAN, "name": "Plan v2.pdf"}}, actor=world.user,
                        channel="web", lang="en").ok
    db_session.commit()
    assert import_(world, to_bytes(fill(untouched, staff_total=300)), apply=False).not_imported == []
    db_session.rollback()


def test_the_upload_page_names_a_file_cell_typed_in(two_contacts):
    client = two_contacts.a
    web_book = openpyxl.load_workbook(io.BytesIO(client.get("/respondent/workbook.xlsx").data))
    fill(web_book, staff_total=300, plan="Plan 2026.pdf")
    preview = post_multipart(client, "/respondent/workbook", {"csrf_token": client.csrf,
                                                              "file": (to_bytes(web_book), "filled.xlsx")})
    page = html.unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200, page
    assert "Not read: files are added and removed on the website" in page
    listed = re.search(r'<ul id="not-imported">(.*?)</ul>', page, re.S).group(1)
    assert "The unit's action plan" in listed and ref(web_book, "plan") in listed


def test_the_preview_says_which_answers_the_changes_break_as_the_web_form_flags_them(world, db_session):
    """The unit's staff (100) may not exceed the total staff: a workbook lowering the total to 50 is saved, as
    the web form saves it, but the preview says first that the unit's staff must then be corrected (before,
    it showed a plain change and the flag appeared only after saving)."""
    answer(world, db_session, staff_total=200, has_ct_unit="yes", ct_unit_staff=100)
    book = fill(download(world.response, "en"), staff_total=50)
    preview = import_(world, to_bytes(book), apply=False)
    assert [(c.question_id, c.old, c.new) for c in preview.changes] == [("staff_total", "200", "50")]
    assert preview.flagged == [("Staff of the unit", "At least 1 and not more than the total staff")]
    untouched = import_(world, to_bytes(fill(download(world.response, "en"), staff_total=150)), apply=False)
    assert untouched.flagged == []  # 100 of 150: nothing broken
    answer(world, db_session, staff_total=50)  # broken on the website already: not the workbook's doing
    other = import_(world, to_bytes(fill(download(world.response, "en"), remarks="note")), apply=False)
    assert other.changes and other.flagged == []
    db_session.rollback()
    assert stored(db_session, world.response)["staff_total"] == 50  # a preview saves nothing


def test_the_upload_page_lists_the_answers_the_changes_break(two_contacts):
    a = two_contacts.a
    assert post_section(a, 1, {"q__staff_total": "200"}).status_code == 302
    assert post_section(a, 2, {"q__has_ct_unit": "yes", "q__ct_unit_staff": "100"}).status_code == 302
    book = openpyxl.load_workbook(io.BytesIO(a.get("/respondent/workbook.xlsx").data))
    fill(book, staff_total=50)
    preview = post_multipart(a, "/respondent/workbook", {"csrf_token": a.csrf, "file": (to_bytes(book), "f.xlsx")})
    page = html.unescape(preview.get_data(as_text=True))
    flagged = re.search(r'<div class="flash flash-warning" id="flagged">.*?</div>', page, re.S).group(0)
    assert "must be corrected before the questionnaire can be submitted" in flagged
    assert "<li>Staff of the unit: At least 1 and not more than the total staff</li>" in flagged


def test_a_long_sheet_of_the_persons_own_figures_does_not_refuse_the_workbook(world, db_session):
    """A working sheet added by hand (5,000 rows of the agency's own figures, no question heading, no question id)
    is not read, and the answers are: before, the whole workbook was refused as having "more than N rows"."""
    book = download(world.response, "en")
    own = book.create_sheet("Данные")
    own.append(["Region", "Staff"])
    for number in range(5000):
        own.append([f"Region {number}", number])
    fill(book, staff_total=300)
    outcome = import_(world, to_bytes(book), apply=True)
    assert outcome.problems == [] and outcome.applied
    db_session.commit()
    assert stored(db_session, world.response) == {"staff_total": 300}
