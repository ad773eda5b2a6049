"""The country gap report: real workbooks reopened with openpyxl and read cell by cell."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl.utils.escape import unescape
from sqlalchemy import select, update

from tests.reports.conftest import (
    CLARIFICATION,
    COMMENT,
    RATIONALE,
    REPLY,
    all_texts,
    client_for,
    column_of,
    open_workbook,
    rows_by_code,
    save,
    xml_parts,
)

EN_SHEETS = ["Cover", "Summary", "Indicators", "Agencies", "Answers", "Clarifications", "Methodology"]


def build(world, db_session, lang="en", comments=False):
    """The KZ report of the world's campaign, saved and reopened."""
    from app.campaigns.models import Campaign
    from app.directory.models import Country
    from app.reports.country import build_country_report
    from app.reports.data import country_report_data

    campaign = db_session.get(Campaign, world["campaign"])
    country = db_session.get(Country, world["countries"]["KZ"])
    data = country_report_data(campaign, country, include_comments=comments)
    content = save(build_country_report(data, lang))
    db_session.rollback()
    return open_workbook(content), content


def test_sheets_in_order_and_document_properties(report_world, db_session):
    workbook, _content = build(report_world, db_session)
    assert workbook.sheetnames == EN_SHEETS
    assert workbook.properties.title == "Country gap report: Kazakhstan · Round 1"
    assert workbook.properties.creator == "Project team"  # reports/branding.yaml
    assert workbook.properties.language == "en"
    with_comments, _content = build(report_world, db_session, comments=True)
    assert with_comments.sheetnames == [*EN_SHEETS[:6], "Internal comments", "Methodology"]


def test_cover_names_the_report_and_carries_the_branding(report_world, db_session):
    workbook, _content = build(report_world, db_session)
    cover = workbook["Cover"]
    texts = all_texts(workbook)
    labels = {cover.cell(row=r, column=1).value: cover.cell(row=r, column=2).value for r in range(1, cover.max_row + 1)}
    assert "Country gap report" in texts and "Kazakhstan" in texts
    assert labels["Campaign"] == "Round 1" and labels["Country"] == "Kazakhstan (KZ)"
    assert labels["Questionnaire"] == "Report example" and labels["Questionnaire version"] == "report-example v1"
    assert labels["Agencies asked"] == 4 and labels["Agencies that submitted their answers"] == 2
    assert isinstance(labels["Generated on (UTC)"], datetime)
    assert labels["Internal comments"] == "not included"
    assert any("financial support of the European Union" in t for t in texts)
    assert "How to read this report" in texts
    # The highest priorities, ranked as on the Indicators sheet, and called so (the heading said "largest gaps",
    # while larger gaps of lighter indicators were left out)
    assert "Highest priorities (gap × indicator weight × area weight)" in labels and "Largest gaps" not in labels
    assert labels.get("1. Investigation", "").startswith("Dedicated CT unit: gap 2")


def test_summary_equals_the_materialized_area_scores(report_world, db_session):
    from app.scoring.engine import round_score
    from app.scoring.models import CountryAreaScore

    workbook, _content = build(report_world, db_session)
    sheet = workbook["Summary"]
    assert [c.value for c in sheet[1]] == ["Area", "Self-assessed", "Expert", "Assessed level", "Target", "Gap",
                                           "Coverage", "Area code"]
    rows = rows_by_code(sheet, 8)
    scores = list(db_session.scalars(select(CountryAreaScore).where(
        CountryAreaScore.campaign_id == report_world["campaign"],
        CountryAreaScore.country_id == report_world["countries"]["KZ"])))
    assert sorted(rows) == sorted(s.area_id for s in scores) == ["cooperation", "investigation"]
    for score in scores:
        row = rows[score.area_id]
        shown = [sheet.cell(row=row, column=c).value for c in range(2, 8)]
        assert shown == [round_score(score.self_assessed), round_score(score.expert), round_score(score.assessed),
                         round_score(score.target), round_score(score.gap), round_score(score.coverage)]
    assert sheet.cell(row=rows["investigation"], column=1).value == "Investigation"
    assert sheet.cell(row=rows["investigation"], column=4).number_format == "0.00"
    assert sheet.cell(row=rows["investigation"], column=7).number_format == "0%"
    # The expert's rating of inv_unit counts: the assessed level differs from the self-assessment.
    investigation = next(s for s in scores if s.area_id == "investigation")
    assert investigation.expert is not None and investigation.assessed != investigation.self_assessed


def test_summary_has_a_chart_and_conditional_formatting(report_world, db_session):
    workbook, content = build(report_world, db_session)
    sheet = workbook["Summary"]
    rules = {rule.type: str(cf.sqref) for cf in sheet.conditional_formatting for rule in cf.rules}
    assert rules == {"dataBar": "B2:D3", "colorScale": "F2:F3"}
    [chart] = sheet._charts
    assert chart.tagname == "barChart" and len(chart.series) == 2
    xml = xml_parts(content)
    assert "<barChart>" in xml and re.search(r"'?Summary'?!\$D\$2:\$D\$3", xml)
    assert re.search(r"'?Summary'?!\$E\$2:\$E\$3", xml) and re.search(r"'?Summary'?!\$A\$2:\$A\$3", xml)
    assert "Assessed level and target by area" in xml


def test_print_setup_frozen_headers_filters_widths(report_world, db_session):
    workbook, _content = build(report_world, db_session, comments=True)
    for name in ("Summary", "Indicators", "Agencies", "Answers", "Clarifications", "Internal comments"):
        sheet = workbook[name]
        assert sheet.page_setup.orientation == "landscape", name
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0, name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
        assert sheet.print_title_rows == "$1:$1", name
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith("2"), name
        assert sheet.auto_filter.ref.startswith("A1:"), name
        assert sheet.column_dimensions["B"].width >= 12, name
        assert "&P / &N" in sheet.oddFooter.right.text, name
    assert workbook["Indicators"].freeze_panes == "D2" and workbook["Answers"].freeze_panes == "D2"
    assert workbook["Cover"].page_setup.orientation == "portrait"
    assert workbook["Methodology"].sheet_properties.pageSetUpPr.fitToPage


def test_indicators_are_ranked_by_priority_with_the_latest_rationale(report_world, db_session):
    from app.scoring.engine import round_score
    from app.scoring.models import CountryScore

    workbook, _content = build(report_world, db_session)
    sheet = workbook["Indicators"]
    code = column_of(sheet, "Indicator code")
    assert sheet.column_dimensions["R"].hidden and code == 18
    rows = rows_by_code(sheet, code)
    scores = {s.indicator_id: s for s in db_session.scalars(select(CountryScore).where(
        CountryScore.campaign_id == report_world["campaign"],
        CountryScore.country_id == report_world["countries"]["KZ"]))}
    assert set(rows) == set(scores) == {"inv_unit", "inv_training", "coop_exchange"}
    priorities = [sheet.cell(row=r, column=column_of(sheet, "Priority")).value for r in range(2, sheet.max_row + 1)]
    expected = sorted((s.priority for s in scores.values() if s.priority is not None), reverse=True)
    assert priorities == [round_score(p) for p in expected] + [None] * (len(scores) - len(expected))
    assert [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)] == [1, 2, 3]
    for indicator_id, score in scores.items():
        row = rows[indicator_id]
        cell = lambda title, row=row: sheet.cell(row=row, column=column_of(sheet, title)).value  # noqa: E731
        assert cell("Self-assessed") == round_score(score.self_assessed)
        assert cell("Expert") == round_score(score.expert)
        assert cell("Assessed level") == round_score(score.assessed)
        assert cell("Target") == round_score(score.target)
        assert cell("Gap") == round_score(score.gap)
        assert cell("Coverage") == round_score(score.coverage)
        assert cell("Agencies answering") == score.agencies_with_level
        assert cell("Agencies to which it applies") == score.agencies
    unit = rows["inv_unit"]
    assert sheet.cell(row=unit, column=column_of(sheet, "Latest expert rationale")).value == RATIONALE
    assert sheet.cell(row=unit, column=column_of(sheet, "Rated by")).value == "KZ Expert"
    assert sheet.cell(row=unit, column=column_of(sheet, "Expert")).value == 1
    assert sheet.cell(row=rows["inv_unit"], column=3).value == "Dedicated CT unit"
    assert sheet.cell(row=rows["coop_exchange"], column=2).value == "Cooperation"
    assert scores["coop_exchange"].target == 3  # the campaign's target for KZ, not the default 4


def test_experts_whose_latest_levels_differ_are_named_with_their_levels(report_world, db_session, make_user):
    """Two experts rate the same indicator differently: the report names both with their latest levels (each
    expert's older ratings do not count), beside the latest rationale the assessed level uses."""
    from app.auth.models import User
    from app.campaigns.models import Campaign
    from app.directory.models import Country
    from app.review import services as review

    campaign = db_session.get(Campaign, report_world["campaign"])
    kz = db_session.get(Country, report_world["countries"]["KZ"])
    first = db_session.scalar(select(User).where(User.email == "kz.expert@example.org"))
    second = make_user("expert", email="other.expert@example.org", name="Other Expert", countries=["KZ"])
    review.add_rating(campaign, kz, "inv_unit", 2, "Two units exist.", actor=second)
    review.add_rating(campaign, kz, "inv_unit", 3, "Staff were assigned in 2026.", actor=second)
    review.add_rating(campaign, kz, "inv_training", 3, "Same view.", actor=second)
    review.add_rating(campaign, kz, "inv_training", 3, "Agreed.", actor=first)
    db_session.commit()
    expected = "Other Expert: 3; KZ Expert: 1"  # the latest rating first
    for lang, heading in (("en", "Experts' latest levels differ"), ("ru", "Последние оценки экспертов расходятся")):
        workbook, _content = build(report_world, db_session, lang=lang)
        sheet = workbook[workbook.sheetnames[2]]
        rows = rows_by_code(sheet, column_of(sheet, "Indicator code" if lang == "en" else "Код показателя"))
        column = column_of(sheet, heading)
        assert sheet.cell(row=rows["inv_unit"], column=column).value == expected
        assert sheet.cell(row=rows["inv_training"], column=column).value is None  # the same latest level
        assert sheet.cell(row=rows["coop_exchange"], column=column).value is None  # rated by nobody


def test_agencies_matrix_equals_the_response_scores(report_world, db_session):
    from app.scoring.engine import round_score
    from app.scoring.models import ResponseScore

    workbook, _content = build(report_world, db_session)
    sheet = workbook["Agencies"]
    heads = [c.value for c in sheet[1]]
    assert heads[:7] == ["Agency", "Name", "Type of agency", "Status", "Submitted on", "Validated on",
                         "Required questions answered"]
    assert heads[7:] == ["Dedicated CT unit", "Training of investigators", "Information exchange"]
    codes = ["inv_unit", "inv_training", "coop_exchange"]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    assert list(rows) == ["AFM", "GP", "MVD", "NB"]  # TJ and the regional body never appear
    statuses = {a: sheet.cell(row=r, column=4).value for a, r in rows.items()}
    assert statuses == {"AFM": "validated", "GP": "in progress", "MVD": "submitted", "NB": "not started"}
    for key in ("MVD", "AFM"):
        levels = {s.indicator_id: s.level for s in db_session.scalars(
            select(ResponseScore).where(ResponseScore.response_id == report_world["responses"][key]))}
        shown = {code: sheet.cell(row=rows[key], column=8 + i).value for i, code in enumerate(codes)}
        assert shown == {code: round_score(levels[code]) for code in codes}
        assert isinstance(sheet.cell(row=rows[key], column=5).value, datetime)
    assert isinstance(sheet.cell(row=rows["AFM"], column=6).value, datetime)
    for key in ("GP", "NB"):
        assert [sheet.cell(row=rows[key], column=8 + i).value for i in range(3)] == [None, None, None]
    assert sheet.cell(row=rows["MVD"], column=2).value == "Ministry of Internal Affairs"
    assert sheet.cell(row=rows["AFM"], column=3).value == "Financial intelligence unit"
    rules = [rule.type for cf in sheet.conditional_formatting for rule in cf.rules]
    assert rules == ["colorScale"]


def test_dates_are_the_readers_days_as_the_pages_show_them(app_ctx, report_world, db_session):
    """MVD submitted at 20:00 UTC on 5 March: its page says 6 March, 01:00 UTC+5 in Almaty; the report said 5 March.
    Dates are now the reader's days (the browser's zone for a download, TIMEZONE on the command line), and the
    comments' times name their zone."""
    from flask_babel import refresh

    from app.responses.models import Response

    mvd = db_session.get(Response, report_world["responses"]["MVD"])
    mvd.submitted_at = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
    db_session.commit()
    with app_ctx.test_request_context("/", headers={"Cookie": "tz=Asia/Almaty"}):  # a reader in Almaty downloads
        refresh()
        workbook, _content = build(report_world, db_session, comments=True)
    refresh()
    sheet = workbook["Agencies"]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    assert sheet.cell(row=rows["MVD"], column=5).value.date() == date(2026, 3, 6)
    assert workbook["Internal comments"].cell(row=1, column=6).value == "Written on (UTC+5)"


def test_answers_show_labels_in_the_language_and_codes_in_hidden_columns(report_world, db_session):
    from app.i18n import _, force_locale

    workbook, _content = build(report_world, db_session, lang="ru")
    with force_locale("ru"):
        yes, does_not_apply = _("Yes"), _("Does not apply")
        answers_name = _("Answers")
    sheet = workbook[answers_name]
    heads = [c.value for c in sheet[1]]
    assert heads[3::2] == ["AFM", "MVD"]  # submitted and validated responses only: no GP (in progress), no TJ
    assert sheet.column_dimensions["C"].hidden
    assert sheet.column_dimensions["E"].hidden and sheet.column_dimensions["G"].hidden
    assert not sheet.column_dimensions["D"].hidden and not sheet.column_dimensions["F"].hidden
    rows = rows_by_code(sheet, 3)
    assert list(rows) == ["agency_name", "staff_total", "answered_on", "has_ct_unit", "ct_unit_staff",
                          "training_topics", "exchange_channel", "priorities"]
    mvd, afm = heads.index("MVD") + 1, heads.index("AFM") + 1
    cell = lambda question, column: sheet.cell(row=rows[question], column=column).value  # noqa: E731
    assert cell("exchange_channel", 2) == "Основной канал обмена информацией"
    assert cell("exchange_channel", 1) == "Сотрудничество"
    assert cell("exchange_channel", mvd) == "Каналы Интерпола" and cell("exchange_channel", mvd + 1) == "interpol"
    assert cell("exchange_channel", afm) == "Двусторонние соглашения"
    assert cell("exchange_channel", afm + 1) == "bilateral"
    assert cell("training_topics", mvd) == "Финансирование терроризма; Цифровые доказательства"
    assert cell("training_topics", mvd + 1) == "financing; digital"
    assert cell("has_ct_unit", mvd) == yes and cell("has_ct_unit", mvd + 1) == "yes"
    assert cell("staff_total", mvd) == 350 and cell("staff_total", mvd + 1) == 350  # after the clarification
    assert cell("priorities", mvd) == "Forensic laboratory" and cell("priorities", mvd + 1) is None
    # a date is a date cell, which Excel sorts and filters as dates (it was the Russian text "15 мар. 2026 г.")
    assert cell("answered_on", mvd) == datetime(2026, 3, 15) and cell("answered_on", mvd + 1) == "2026-03-15"
    assert sheet.cell(row=rows["answered_on"], column=mvd).number_format == "yyyy-mm-dd"
    assert cell("answered_on", afm) is None
    assert cell("priorities", afm) is None
    assert "Секретный ответ TJ" not in all_texts(workbook) and "Draft answer in progress" not in all_texts(workbook)
    assert does_not_apply not in [cell(q, c) for q in rows for c in (mvd, afm)]


def test_questions_hidden_by_skip_logic_do_not_apply(report_world, db_session):
    from app.responses.models import Answer

    db_session.execute(update(Answer).where(Answer.response_id == report_world["responses"]["AFM"],
                                            Answer.question_id == "has_ct_unit").values(value="no"))
    db_session.commit()
    workbook, _content = build(report_world, db_session)
    sheet = workbook["Answers"]
    rows = rows_by_code(sheet, 3)
    afm = [c.value for c in sheet[1]].index("AFM") + 1
    assert sheet.cell(row=rows["ct_unit_staff"], column=afm).value == "Does not apply"
    assert sheet.cell(row=rows["ct_unit_staff"], column=afm + 1).value is None


def test_the_russian_report_has_russian_sheet_names_and_labels(report_world, db_session):
    from app.i18n import _, force_locale
    from app.reports.country import sheet_title

    workbook, _content = build(report_world, db_session, lang="ru", comments=True)
    with force_locale("ru"):
        expected = [sheet_title(_(name)) for name in ("Cover", "Summary", "Indicators", "Agencies", "Answers",
                                                      "Clarifications", "Internal comments", "Methodology")]
    assert workbook.sheetnames == expected
    # Words the catalogue already translates.
    assert workbook.sheetnames[1] == "Сводка" and workbook.sheetnames[3] == "Ведомства"
    agencies = workbook["Ведомства"]
    assert agencies["A1"].value == "Ведомство" and agencies["D1"].value == "Статус"
    assert {agencies.cell(row=r, column=4).value for r in range(2, 6)} == {"принята", "представлена",
                                                                           "заполняется", "не начата"}
    assert agencies["H1"].value == "Специализированное подразделение"
    assert workbook.properties.language == "ru"
    assert "Казахстан" in all_texts(workbook)
    assert any("Европейского союза" in t for t in all_texts(workbook))


def test_clarifications_show_reply_and_before_after_values(report_world, db_session):
    workbook, _content = build(report_world, db_session)
    sheet = workbook["Clarifications"]
    assert sheet.max_row == 2
    row = {sheet.cell(row=1, column=c).value: sheet.cell(row=2, column=c).value for c in range(1, 13)}
    assert row["Agency"] == "MVD" and row["Question"] == "Total number of staff"
    assert row["Request"] == CLARIFICATION and row["Agency's reply"] == REPLY
    assert row["Requested by"] == "KZ Expert" and isinstance(row["Requested on"], datetime)
    assert row["Before"] == "500" and row["After"] == "350" and row["Answer"] == "Changed"
    assert row["State"] == "answered" and row["Question code"] == "staff_total"
    assert sheet.column_dimensions["L"].hidden


def test_internal_comments_only_when_asked(report_world, db_session):
    workbook, content = build(report_world, db_session)
    assert "Internal comments" not in workbook.sheetnames
    assert COMMENT not in all_texts(workbook) and COMMENT not in xml_parts(content)
    from app.responses.models import Response
    from app.review import services as review
    from app.review.models import Comment

    mvd = db_session.get(Response, report_world["responses"]["MVD"])
    first = db_session.scalar(select(Comment).where(Comment.body == COMMENT))
    review.add_comment(mvd, "staff_total", "Agreed, and the regional offices too.", actor=first.author,
                       parent_id=first.id)
    db_session.commit()
    workbook, _content = build(report_world, db_session, comments=True)
    sheet = workbook["Internal comments"]
    assert [c.value for c in sheet[1]][:6] == ["Agency", "Question", "Comment", "In reply to", "Author",
                                               "Written on (UTC)"]
    assert [c.value for c in sheet[2]][:5] == ["MVD", "Total number of staff", COMMENT, None, "KZ Expert"]
    # the reply, under its parent, says whom it answers (an indent alone is lost when rows are sorted)
    reply = [c.value for c in sheet[3]]
    assert reply[2] == "Agreed, and the regional offices too." and sheet.cell(row=3, column=3).alignment.indent == 2
    assert reply[3] == "↳ KZ Expert: “INTERNAL NOTE: check the staff figure against the 2025 annua…”"
    assert sheet.column_dimensions["G"].hidden and reply[6] == "staff_total"
    cover = workbook["Cover"]
    labels = [(cover.cell(row=r, column=1).value, cover.cell(row=r, column=2).value) for r in range(1, 40)]
    assert ("Internal comments", "included: not for distribution to the agencies") in labels  # key figures
    assert ("Internal comments", "The reviewers' internal comments: not for distribution to the agencies.") in labels
    assert "Internal" in sheet.oddHeader.left.text


def test_the_internal_notice_prints_whole_after_a_long_campaign_name(report_world, db_session):
    """A campaign named with 200 characters: the page header cuts the name, not the "not for distribution"
    notice (it was cut mid-word, or lost, from about 160 characters of name)."""
    from app.responses.models import Response

    campaign = db_session.get(Response, report_world["responses"]["MVD"]).campaign
    campaign.name = "Оценка потребностей " * 10
    db_session.commit()
    workbook, _content = build(report_world, db_session, comments=True)
    header = workbook["Internal comments"].oddHeader.left.text
    assert header.endswith(" · Internal: not for distribution to the agencies") and len(header) <= 200
    assert "…" in header


def test_methodology_explains_the_figures_and_lists_the_targets(report_world, db_session):
    workbook, _content = build(report_world, db_session)
    sheet = workbook["Methodology"]
    texts = all_texts(workbook)
    for term in ("Rating scale", "Coverage", "Gap", "Priority", "Assessed level", "Self-assessed level", "Targets"):
        assert term in texts, term
    assert "Largely in place" in texts
    heading = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "Area"
                   and sheet.cell(row=r, column=2).value == "Indicator")
    assert [sheet.cell(row=heading, column=c).value for c in range(3, 5)] == ["Default target",
                                                                             "Target for Kazakhstan"]
    targets = {sheet.cell(row=r, column=2).value: (sheet.cell(row=r, column=3).value,
                                                   sheet.cell(row=r, column=4).value)
               for r in range(heading + 1, heading + 4)}
    assert targets == {"Dedicated CT unit": (3, 3), "Training of investigators": (3, 3),
                       "Information exchange": (4, 3)}


FORMULA_LIKE = ['=HYPERLINK("http://x","click")', "+1+1", "@SUM(A1)", "-2"]
CONTROL = "bell\x07 escape\x1b tab\tend _x0041_ emoji 🚀👍🏽"
LONG = "L" * 40_000


def test_texts_from_people_are_written_as_plain_text(report_world, db_session):
    """Answers, rationales, replies and comments that look like formulas, control characters, emoji and a text over
    Excel's cell limit all read back as text (never a formula); the long one is cut with the marker."""
    from app.responses.models import Answer
    from app.review.models import Clarification, Comment, ExpertRating

    responses = report_world["responses"]
    changes = {(responses["MVD"], "agency_name"): FORMULA_LIKE[0], (responses["MVD"], "priorities"): LONG,
               (responses["AFM"], "agency_name"): FORMULA_LIKE[1], (responses["AFM"], "priorities"): CONTROL}
    for (response_id, question_id), value in changes.items():
        answer = db_session.scalar(select(Answer).where(Answer.response_id == response_id,
                                                        Answer.question_id == question_id))
        if answer is None:
            db_session.add(Answer(response_id=response_id, question_id=question_id, value=value))
        else:
            answer.value = value
    db_session.execute(update(ExpertRating).values(rationale=FORMULA_LIKE[2]))
    db_session.execute(update(Clarification).values(reply=FORMULA_LIKE[3]))
    db_session.execute(update(Comment).values(body="=1+1 " + CONTROL))
    db_session.commit()
    workbook, content = build(report_world, db_session, comments=True)
    texts = [unescape(t) for t in all_texts(workbook)]
    for value in [*FORMULA_LIKE, CONTROL, "=1+1 " + CONTROL]:
        assert value in texts, value
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                    assert cell.data_type == "s" and cell.quotePrefix, f"{sheet.title}!{cell.coordinate}"
    answers = workbook["Answers"]
    rows = rows_by_code(answers, 3)
    mvd = [c.value for c in answers[1]].index("MVD") + 1
    long_cell = answers.cell(row=rows["priorities"], column=mvd).value
    assert len(long_cell) == 32767 and long_cell.endswith(" […]") and long_cell.startswith("LLLL")
    assert answers.cell(row=rows["agency_name"], column=mvd).value == FORMULA_LIKE[0]
    assert "<f>" not in xml_parts(content, "xl/worksheets/")


def test_country_report_download_scope_and_options(app_ctx, report_world, db_session):
    campaign = report_world["campaign"]
    expert = client_for(app_ctx, "kz.expert@example.org")
    response = expert.get(f"/reports/campaigns/{campaign}/countries/KZ.xlsx?lang=ru&comments=1")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.search(r'filename=country-KZ-campaign\d+-ru-\d{4}-\d\d-\d\dT\d{4}\.xlsx',
                     response.headers["Content-Disposition"])
    workbook = open_workbook(response.data)
    assert workbook.sheetnames[1] == "Сводка" and len(workbook.sheetnames) == 8
    assert COMMENT in all_texts(workbook)
    plain = open_workbook(expert.get(f"/reports/campaigns/{campaign}/countries/kz.xlsx").data)
    assert plain.sheetnames == EN_SHEETS and COMMENT not in all_texts(plain)
    for url in (f"/reports/campaigns/{campaign}/countries/TJ.xlsx", f"/reports/campaigns/{campaign}/countries/XX.xlsx",
                f"/reports/campaigns/{campaign + 1}/countries/KZ.xlsx"):
        refused = expert.get(url)
        assert refused.status_code == 404, url
        assert "Секретный ответ" not in refused.get_data(as_text=True)
    staff = client_for(app_ctx, "staff@example.org")
    tj = staff.get(f"/reports/campaigns/{campaign}/countries/TJ.xlsx")
    assert tj.status_code == 200 and "Секретный ответ TJ" in all_texts(open_workbook(tj.data))
    # A language the reports are not made in is refused with the choices, rather than ignored.
    for url in (f"/reports/campaigns/{campaign}/countries/KZ.xlsx?lang=de",
                f"/reports/campaigns/{campaign}/region.xlsx?lang=xx"):
        refused = staff.get(url)
        assert refused.status_code == 400 and "choose en, ru" in refused.get_data(as_text=True), url


def test_download_forms_on_the_review_and_campaign_pages(app_ctx, report_world):
    campaign = report_world["campaign"]
    expert = client_for(app_ctx, "kz.expert@example.org")
    page = expert.get(f"/review/campaigns/{campaign}/KZ").get_data(as_text=True)
    assert f'action="/reports/campaigns/{campaign}/countries/KZ.xlsx"' in page
    assert f'action="/reports/campaigns/{campaign}/region.xlsx"' in page
    assert 'name="comments" value="1"' in page and 'name="lang"' in page
    staff = client_for(app_ctx, "staff@example.org")
    detail = staff.get(f"/campaigns/{campaign}").get_data(as_text=True)
    assert f'action="/reports/campaigns/{campaign}/region.xlsx"' in detail
    for code in ("KZ", "TJ"):
        assert f'action="/reports/campaigns/{campaign}/countries/{code}.xlsx"' in detail


def test_a_broken_branding_file_is_shown_to_staff_and_the_report_made_without_it(app_ctx, report_world,
                                                                                 tmp_path, monkeypatch):
    """The web download does not fail on a misspelt key in reports/branding.yaml: the report comes without the
    branding, and staff see what is wrong above the download buttons (experts do not: it names a server path)."""
    from app.reports import data

    (tmp_path / "branding.yaml").write_text("funder: {en: Misspelt key}\n", encoding="utf-8")
    monkeypatch.setattr(data, "reports_folder", lambda: tmp_path)
    campaign = report_world["campaign"]
    staff = client_for(app_ctx, "staff@example.org")
    for url in (f"/campaigns/{campaign}", f"/review/campaigns/{campaign}/KZ", "/dashboards/countries/KZ",
                "/dashboards/region"):
        page = staff.get(url).get_data(as_text=True)
        assert page.count("report-branding-problem") == 1, url
        assert "unknown key(s) funder" in page, url
    download = staff.get(f"/reports/campaigns/{campaign}/countries/KZ.xlsx")
    assert download.status_code == 200
    assert "European Union" not in all_texts(open_workbook(download.data))
    expert = client_for(app_ctx, "kz.expert@example.org")
    assert "report-branding-problem" not in expert.get(f"/review/campaigns/{campaign}/KZ").get_data(as_text=True)
    monkeypatch.undo()
    assert "report-branding-problem" not in staff.get(f"/campaigns/{campaign}").get_data(as_text=True)


def test_cli_writes_the_country_report(app_ctx, report_world, tmp_path):
    runner = app_ctx.test_cli_runner()
    campaign = report_world["campaign"]
    target = tmp_path / "kz.xlsx"
    result = runner.invoke(args=["reports", "country", str(campaign), "KZ", "--lang", "ru", "-o", str(target),
                                 "--comments"])
    assert result.exit_code == 0, result.output
    workbook = open_workbook(target.read_bytes())
    assert workbook.sheetnames[1] == "Сводка" and COMMENT in all_texts(workbook)
    result = runner.invoke(args=["reports", "country", str(campaign), "kz"])
    assert result.exit_code == 0, result.output
    written = Path(result.output.strip())
    try:
        assert written.parent == Path(app_ctx.instance_path) / "reports"
        assert re.fullmatch(rf"country-KZ-campaign{campaign}-en-\d{{4}}-\d\d-\d\dT\d{{4}}\.xlsx", written.name)
        workbook = open_workbook(written.read_bytes())
        assert workbook.sheetnames == EN_SHEETS and COMMENT not in all_texts(workbook)
    finally:
        written.unlink(missing_ok=True)


@pytest.mark.parametrize(("args", "message"), [
    (["reports", "country", "999", "KZ"], "no campaign with id 999"),
    (["reports", "country", "{campaign}", "XX"], "no country with code 'XX'"),
    (["reports", "region", "999"], "no campaign with id 999"),
])
def test_cli_names_what_was_not_found(app_ctx, report_world, args, message):
    args = [a.format(campaign=report_world["campaign"]) for a in args]
    result = app_ctx.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1 and message in result.output


@pytest.mark.parametrize("command", [["country", "{campaign}", "KZ"], ["region", "{campaign}"]])
def test_cli_refuses_a_language_as_every_command_does(app_ctx, report_world, command):
    """A usage error (exit 2) listing the interface languages, as --lang is checked in every command."""
    args = ["reports", *[a.format(campaign=report_world["campaign"]) for a in command], "--lang", "de"]
    result = app_ctx.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2 and "'de' is not one of the interface languages (en, ru)" in result.output


def test_cli_refuses_a_country_outside_the_campaign(app_ctx, report_world, make_country):
    make_country("UZ", en="Uzbekistan")
    result = app_ctx.test_cli_runner().invoke(args=["reports", "country", str(report_world["campaign"]), "UZ"])
    assert result.exit_code == 1 and "country UZ has no agency in campaign" in result.output


def test_branding_is_read_from_the_reports_folder(app_ctx, tmp_path):
    from app.reports.country import add_logo
    from app.reports.data import BrandingError, load_branding

    shipped = load_branding()
    assert "European Union" in shipped.text("funder_statement", "en")
    assert "Европейского союза" in shipped.text("funder_statement", "ru")
    assert shipped.text("project_name", "kk") == shipped.text("project_name", "en")  # falls back to English
    path = tmp_path / "branding.yaml"
    path.write_text("project_name: Plain text for every language\nlogo: missing.png\n", encoding="utf-8")
    branding = load_branding(path)
    assert branding.text("project_name", "ru") == "Plain text for every language" and branding.logo is None
    assert add_logo(None, branding, "C1") is False  # no logo: the cover is made without one
    assert load_branding(tmp_path / "absent.yaml").text("funder_statement", "en") == ""
    path.write_text("funder: {en: Misspelt key}\n", encoding="utf-8")
    with pytest.raises(BrandingError, match="unknown key.*funder"):
        load_branding(path)
    path.write_text("project_name: [not, a, text]\n", encoding="utf-8")
    with pytest.raises(BrandingError, match="'project_name' must be a text"):
        load_branding(path)
