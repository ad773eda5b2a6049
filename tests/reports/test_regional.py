"""The regional summary workbook: figures equal the materialized scores, scope, response rates, the CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from tests.reports.conftest import all_texts, client_for, open_workbook, rows_by_code, save, xml_parts

EN_SHEETS = ["Cover", "Areas", "Indicators", "Largest gaps", "Response rates", "Methodology"]


def build(world, db_session, actor=None, lang="en"):
    """The regional summary as `actor` sees it (None: the command line, everything), saved and reopened."""
    from app.campaigns.models import Campaign
    from app.reports.data import regional_report_data
    from app.reports.regional import build_regional_report

    campaign = db_session.get(Campaign, world["campaign"])
    content = save(build_regional_report(regional_report_data(campaign, actor), lang))
    db_session.rollback()
    return open_workbook(content), content


def _scores(db_session, model, world):
    return {(row.country_id, getattr(row, "area_id" if model.__name__ == "CountryAreaScore" else "indicator_id")): row
            for row in db_session.scalars(select(model).where(model.campaign_id == world["campaign"]))}


def test_sheets_in_order_and_properties(report_world, db_session):
    workbook, _content = build(report_world, db_session)
    assert workbook.sheetnames == EN_SHEETS
    assert workbook.properties.title == "Regional summary · Round 1" and workbook.properties.language == "en"
    cover = workbook["Cover"]
    labels = {cover.cell(row=r, column=1).value: cover.cell(row=r, column=2).value for r in range(1, 20)}
    assert labels["Countries"] == "Kazakhstan (KZ), Tajikistan (TJ)"
    # As the Total row of the response rates (the regional body included: the command line sees everything).
    assert labels["Agencies asked"] == 6 and labels["Agencies that submitted their answers"] == 3


def test_areas_and_indicators_equal_the_materialized_scores(report_world, db_session):
    from app.scoring.engine import round_score
    from app.scoring.models import CountryAreaScore, CountryScore

    workbook, _content = build(report_world, db_session)
    countries = report_world["countries"]
    for name, model, first, code_column in (("Areas", CountryAreaScore, 2, 10), ("Indicators", CountryScore, 3, 11)):
        sheet = workbook[name]
        assert sheet.cell(row=1, column=first).value == "Kazakhstan (KZ)"
        assert sheet.cell(row=1, column=first + 4).value == "Tajikistan (TJ)"
        assert [sheet.cell(row=2, column=first + i).value for i in range(4)] == ["Assessed level", "Target", "Gap",
                                                                                "Coverage"]
        assert sheet.cell(row=2, column=code_column).value in ("Area code", "Indicator code")
        assert sheet.column_dimensions[sheet.cell(row=2, column=code_column).column_letter].hidden
        rows = rows_by_code(sheet, code_column, first_row=3)
        scores = _scores(db_session, model, report_world)
        assert len(scores) == 2 * len(rows)
        for (country_id, key), score in scores.items():
            column = first + (0 if country_id == countries["KZ"] else 4)
            shown = [sheet.cell(row=rows[key], column=column + i).value for i in range(4)]
            assert shown == [round_score(score.assessed), round_score(score.target), round_score(score.gap),
                             round_score(score.coverage)], (name, country_id, key)
        assert sheet.freeze_panes == ("B3" if name == "Areas" else "C3")
        assert sheet.print_title_rows == "$1:$2" and sheet.auto_filter.ref.startswith("A2:")
        assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
        types = sorted({rule.type for cf in sheet.conditional_formatting for rule in cf.rules})
        assert types == ["colorScale", "dataBar"]
    # The KZ target of coop_exchange is the campaign's override (3), TJ keeps the default (4).
    indicators = workbook["Indicators"]
    row = rows_by_code(indicators, 11, first_row=3)["coop_exchange"]
    assert indicators.cell(row=row, column=4).value == 3 and indicators.cell(row=row, column=8).value == 4
    [chart] = workbook["Areas"]._charts
    assert len(chart.series) == 2


def test_largest_gaps_are_ranked_by_priority(report_world, db_session):
    from app.scoring.engine import round_score
    from app.scoring.models import CountryScore

    workbook, _content = build(report_world, db_session)
    sheet = workbook["Largest gaps"]
    assert [c.value for c in sheet[1]][:9] == ["Rank", "Country", "Area", "Indicator", "Assessed level", "Target",
                                              "Gap", "Priority", "Coverage"]
    scores = [s for s in db_session.scalars(select(CountryScore).where(
        CountryScore.campaign_id == report_world["campaign"])) if (s.gap or 0) > 0]
    expected = sorted(scores, key=lambda s: (-s.priority, -s.gap))[:10]
    names = {report_world["countries"]["KZ"]: "Kazakhstan", report_world["countries"]["TJ"]: "Tajikistan"}
    shown = [[sheet.cell(row=r, column=c).value for c in (1, 2, 7, 8, 10)] for r in range(2, sheet.max_row + 1)]
    assert shown == [[rank, names[s.country_id], round_score(s.gap), round_score(s.priority), s.indicator_id]
                     for rank, s in enumerate(expected, start=1)]
    assert len(shown) >= 3
    priorities = [row[3] for row in shown]
    assert priorities == sorted(priorities, reverse=True)


def test_response_rates_per_country(report_world, db_session):
    workbook, _content = build(report_world, db_session)
    sheet = workbook["Response rates"]
    assert [c.value for c in sheet[1]] == ["Country", "Agencies asked", "not started", "in progress", "returned",
                                           "submitted", "validated", "Submitted or validated", "Response rate"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows == [["Kazakhstan (KZ)", 4, 1, 1, 0, 1, 1, 2, 0.5],
                    ["Tajikistan (TJ)", 1, 0, 0, 0, 1, 0, 1, 1],
                    ["Regional bodies", 1, 1, 0, 0, 0, 0, 0, 0],
                    ["Total", 6, 2, 1, 0, 2, 1, 3, 0.5]]
    assert sheet.cell(row=2, column=9).number_format == "0%"


def test_an_expert_never_sees_other_countries(app_ctx, report_world, db_session):
    campaign = report_world["campaign"]
    expert = client_for(app_ctx, "kz.expert@example.org")
    response = expert.get(f"/reports/campaigns/{campaign}/region.xlsx")
    assert response.status_code == 200
    assert re.search(r"filename=region-campaign\d+-en-\d{4}-\d\d-\d\dT\d{4}\.xlsx",
                     response.headers["Content-Disposition"])
    workbook = open_workbook(response.data)
    texts = all_texts(workbook)
    xml = xml_parts(response.data)
    for secret in ("Tajikistan", "Таджикистан", "(TJ)", "Regional bodies", "Target for Tajikistan"):
        assert not any(secret in t for t in texts), secret
        assert secret not in xml, secret
    rates = workbook["Response rates"]
    assert [rates.cell(row=r, column=1).value for r in range(2, rates.max_row + 1)] == ["Kazakhstan (KZ)", "Total"]
    assert workbook["Areas"].cell(row=1, column=2).value == "Kazakhstan (KZ)"
    assert workbook["Areas"].cell(row=1, column=6).value is None
    assert expert.get(f"/reports/campaigns/{campaign + 1}/region.xlsx").status_code == 404
    staff = client_for(app_ctx, "staff@example.org")
    everything = all_texts(open_workbook(staff.get(f"/reports/campaigns/{campaign}/region.xlsx?lang=ru").data))
    assert "Таджикистан (TJ)" in everything


def test_an_expert_without_a_country_in_the_campaign_gets_404(app_ctx, report_world, make_user, make_country):
    make_country("UZ", en="Uzbekistan")
    make_user("expert", email="uz.expert@example.org", countries=["UZ"])
    expert = client_for(app_ctx, "uz.expert@example.org")
    assert expert.get(f"/reports/campaigns/{report_world['campaign']}/region.xlsx").status_code == 404


def test_the_russian_summary_has_russian_sheet_names(report_world, db_session):
    from app.i18n import _, force_locale
    from app.reports.country import sheet_title

    workbook, _content = build(report_world, db_session, lang="ru")
    with force_locale("ru"):
        expected = [sheet_title(_(n)) for n in ("Cover", "Areas", "Indicators", "Largest gaps", "Response rates",
                                                 "Methodology")]
    assert workbook.sheetnames == expected
    assert workbook.sheetnames[1] == "Направления"  # already in the catalogue
    assert workbook.properties.language == "ru"
    assert "Казахстан (KZ)" in all_texts(workbook) and "Расследование" in all_texts(workbook)


def test_cli_writes_the_regional_summary(app_ctx, report_world, tmp_path):
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "out" / "region.xlsx"
    result = runner.invoke(args=["reports", "region", str(report_world["campaign"]), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert open_workbook(target.read_bytes()).sheetnames == EN_SHEETS
    result = runner.invoke(args=["reports", "region", str(report_world["campaign"]), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    written = Path(result.output.strip())
    try:
        assert written.parent == Path(app_ctx.instance_path) / "reports"
        campaign = report_world["campaign"]
        assert re.fullmatch(rf"region-campaign{campaign}-ru-\d{{4}}-\d\d-\d\dT\d{{4}}\.xlsx", written.name)
        texts = all_texts(open_workbook(written.read_bytes()))
        assert "Таджикистан (TJ)" in texts  # the command line sees every country
    finally:
        written.unlink(missing_ok=True)


def test_the_builders_are_pure():
    """Built from plain data, without an app or a database: ranking ties and an empty campaign."""
    from app.questionnaires.loader import load_file
    from app.reports.country import ranked_indicators
    from app.reports.data import Branding, CampaignInfo, CountryInfo, Figures, RegionalReportData
    from app.reports.regional import build_regional_report, largest_gaps

    definition = load_file(Path(__file__).with_name("report_questionnaire.yaml")).definition
    figures = {"inv_unit": Figures(gap=1, priority=4), "inv_training": Figures(gap=2, priority=4),
               "coop_exchange": Figures()}
    assert ranked_indicators(definition, figures) == ["inv_training", "inv_unit", "coop_exchange"]
    data = RegionalReportData(
        campaign=CampaignInfo(1, "=Round", "open", None, "report-example v1", definition.title, {}),
        definition=definition, generated_at=datetime(2026, 11, 29, 9, 12, tzinfo=UTC), branding=Branding(),
        countries=[CountryInfo("KZ", {"en": "Kazakhstan"}), CountryInfo("TJ", {"en": "Tajikistan"})],
        areas={"KZ": {}, "TJ": {}},
        indicators={"KZ": dict(figures), "TJ": {**figures, "inv_unit": Figures(gap=1, priority=4)}},
        response_rates=[], targets={"KZ": {}, "TJ": {}})
    assert [(code, i) for code, i, _f in largest_gaps(data)] == [("KZ", "inv_training"), ("TJ", "inv_training"),
                                                                 ("KZ", "inv_unit"), ("TJ", "inv_unit")]
    workbook = open_workbook(save(build_regional_report(data, "en")))
    assert workbook.sheetnames == EN_SHEETS
    assert workbook["Cover"]["B3"].value == "=Round" and workbook["Cover"]["B3"].data_type == "s"
