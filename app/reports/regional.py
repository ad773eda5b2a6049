"""The regional summary workbook: `build_regional_report(data, lang) -> Workbook`, pure (no database, no request).

Sheets, in order: Cover, Areas (areas x countries: assessed level, target, gap, coverage; a chart of the
countries' levels per area), Indicators (the same per indicator), Largest gaps (the ten largest priorities of
the region), Response rates (agencies asked, per status, submitted or validated, percentage), Methodology.

Only the countries in the data appear (app.reports.data.regional_report_data keeps those the actor may see).
Texts are written with app.reports.cells.put; labels are translated under `force_locale(lang)`.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.formatting.rule import ColorScaleRule, DataBarRule
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from app.i18n import _, force_locale
from app.questionnaires.forms import tr
from app.reports.country import (
    BOLD,
    DATE_FORMAT,
    DATETIME_FORMAT,
    HEADER_FILL,
    LEVEL_FORMAT,
    PERCENT_FORMAT,
    SUBTLE,
    cover_footer,
    cover_heading,
    effective_targets,
    finish_table,
    header,
    key_values,
    level,
    methodology_sheet,
    name_in,
    reading_guide,
    set_properties,
    sheet_title,
    status_label,
    write,
)
from app.reports.data import Figures, RegionalReportData
from app.scoring.engine import rank_key, round_score

#: How many of the largest gaps of the region are listed.
TOP_GAPS = 10
#: Columns per country in the Areas and Indicators sheets: assessed level, target, gap, coverage.
PER_COUNTRY = 4


def regional_sheet_names() -> list[str]:
    """The sheet names of the regional summary, in order, in the current language."""
    return [sheet_title(name) for name in (_("Cover"), _("Areas"), _("Indicators"), _("Largest gaps"),
                                           _("Response rates"), _("Methodology"))]


def build_regional_report(data: RegionalReportData, lang: str) -> Workbook:
    """The regional summary in `lang`."""
    with force_locale(lang):
        return _RegionalReport(data, lang).build()


def largest_gaps(data: RegionalReportData, limit: int = TOP_GAPS) -> list[tuple[str, str, Figures]]:
    """[(country code, indicator id, figures)] with a gap above 0, largest priority first (ties: larger gap,
    then country code, then questionnaire order)."""
    order = [indicator.id for _area, indicator in data.definition.indicators()]
    items = [(country.code, indicator_id, data.indicators[country.code][indicator_id])
             for country in data.countries for indicator_id in order
             if (data.indicators[country.code][indicator_id].gap or 0) > 0]
    items.sort(key=lambda item: (*rank_key(item[2].priority, item[2].gap), item[0], order.index(item[1])))
    return items[:limit]


class _RegionalReport:
    def __init__(self, data: RegionalReportData, lang: str):
        self.data = data
        self.lang = lang
        self.definition = data.definition
        self.qlang = data.definition.language_for(lang)
        self.default = data.definition.languages[0]
        self.title = _("Regional summary")
        self.header_text = f"{self.title} · {data.campaign.name_in(lang)}"
        self.names = {c.code: name_in(c.names, lang, c.code) for c in data.countries}
        self.area_of = {indicator.id: area for area, indicator in data.definition.indicators()}

    def t(self, text) -> str:
        return tr(text, self.qlang, self.default)

    def build(self) -> Workbook:
        workbook = Workbook()
        names = regional_sheet_names()
        workbook.active.title = names[0]
        self.cover(workbook.active)
        self.areas(workbook.create_sheet(names[1]))
        self.indicators(workbook.create_sheet(names[2]))
        self.gaps(workbook.create_sheet(names[3]))
        self.rates(workbook.create_sheet(names[4]))
        defaults = {indicator.id: float(indicator.target) for _a, indicator in self.definition.indicators()}
        targets = [(_("Default target"), defaults)]
        for country in self.data.countries:
            targets.append((_("Target for %(country)s", country=self.names[country.code]),
                            effective_targets(self.data.targets[country.code])))
        methodology_sheet(workbook, self.definition, self.qlang, targets, self.header_text)
        set_properties(workbook, title=self.header_text, subject=self.t(self.data.campaign.questionnaire_title),
                       branding=self.data.branding, lang=self.lang, created=self.data.generated_at)
        return workbook

    # --- Cover

    def cover(self, sheet) -> None:
        data = self.data
        row = cover_heading(sheet, data.branding, self.lang, self.title) + 2
        row = key_values(sheet, row, [
            (_("Campaign"), data.campaign.name_in(self.lang), None),
            (_("Countries"), ", ".join(f"{self.names[c.code]} ({c.code})" for c in data.countries) or "—", None),
            (_("Questionnaire"), self.t(data.campaign.questionnaire_title), None),
            (_("Questionnaire version"), data.campaign.version_label, None),
            (_("Deadline"), data.campaign.deadline, DATE_FORMAT),
            (_("Generated on (UTC)"), data.generated_at, DATETIME_FORMAT),
            (_("Agencies asked"), sum(r.asked for r in data.response_rates), None),
            (_("Agencies that submitted their answers"), sum(r.answered for r in data.response_rates), None),
        ])
        row += 1
        names = regional_sheet_names()
        row = reading_guide(sheet, row, list(zip(names[1:], [
            _("Each thematic area by country: assessed level, target, gap and coverage, with a chart of the "
              "countries' levels."),
            _("Each indicator by country: assessed level, target, gap and coverage."),
            _("The ten largest gaps of the region, by priority."),
            _("Per country: agencies asked, their responses by status, and the share that submitted."),
            _("The rating scale, how the figures are computed, and the targets used."),
        ], strict=True)))
        cover_footer(sheet, row + 1, data.branding, self.lang, self.header_text)

    # --- Areas and Indicators: rows x countries

    def country_columns(self, sheet, first: int) -> None:
        """Row 1: country names over their columns; row 2: the figures' headings."""
        for offset, country in enumerate(self.data.countries):
            column = first + offset * PER_COUNTRY
            write(sheet, 1, column, f"{self.names[country.code]} ({country.code})", font=BOLD, fill=HEADER_FILL)
            sheet.merge_cells(start_row=1, start_column=column, end_row=1, end_column=column + PER_COUNTRY - 1)
            sheet.cell(row=1, column=column).alignment = Alignment(horizontal="center")
            for index, heading in enumerate((_("Assessed level"), _("Target"), _("Gap"), _("Coverage"))):
                write(sheet, 2, column + index, heading, font=BOLD, fill=HEADER_FILL, wrap=True)
                sheet.column_dimensions[get_column_letter(column + index)].width = 11

    def figures_row(self, sheet, row: int, first: int, figures: dict[str, dict[str, Figures]], key: str) -> None:
        for offset, country in enumerate(self.data.countries):
            figure = figures[country.code].get(key) or Figures()
            column = first + offset * PER_COUNTRY
            write(sheet, row, column, level(figure.assessed), number_format=LEVEL_FORMAT)
            write(sheet, row, column + 1, level(figure.target), number_format=LEVEL_FORMAT)
            write(sheet, row, column + 2, level(figure.gap), number_format=LEVEL_FORMAT)
            write(sheet, row, column + 3, round_score(figure.coverage), number_format=PERCENT_FORMAT)

    def formatting(self, sheet, first: int, last_row: int) -> None:
        low, high = self.definition.min_level, self.definition.max_level
        for offset in range(len(self.data.countries)):
            column = first + offset * PER_COUNTRY
            levels = f"{get_column_letter(column)}3:{get_column_letter(column)}{last_row}"
            gaps = f"{get_column_letter(column + 2)}3:{get_column_letter(column + 2)}{last_row}"
            sheet.conditional_formatting.add(levels, DataBarRule(start_type="num", start_value=low, end_type="num",
                                                                 end_value=high, color="5B9BD5"))
            sheet.conditional_formatting.add(gaps, ColorScaleRule(start_type="num", start_value=0,
                                                                  start_color="FFFFFF", end_type="num",
                                                                  end_value=high - low, end_color="F8696B"))

    def areas(self, sheet) -> None:
        first = 2
        write(sheet, 2, 1, _("Area"), font=BOLD, fill=HEADER_FILL)
        write(sheet, 1, 1, "", fill=HEADER_FILL)
        sheet.column_dimensions["A"].width = 36
        self.country_columns(sheet, first)
        code_column = first + PER_COUNTRY * len(self.data.countries)
        write(sheet, 2, code_column, _("Area code"), font=BOLD, fill=HEADER_FILL)
        row = 3
        for area in self.definition.areas:
            write(sheet, row, 1, self.t(area.title), wrap=True)
            self.figures_row(sheet, row, first, self.data.areas, area.id)
            write(sheet, row, code_column, area.id, font=SUBTLE)
            row += 1
        last = row - 1
        finish_table(sheet, columns=code_column, last_row=last, freeze="B3", header_rows=2,
                     header_text=self.header_text, hidden=(code_column,))
        if last >= 3 and self.data.countries:
            self.formatting(sheet, first, last)
            chart = BarChart()
            chart.type = "col"
            chart.grouping = "clustered"
            chart.title = _("Assessed level by area and country")
            chart.y_axis.title = _("Level")
            chart.y_axis.scaling.min = self.definition.min_level
            chart.y_axis.scaling.max = self.definition.max_level
            chart.y_axis.majorUnit = 1
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            for offset, country in enumerate(self.data.countries):
                column = first + offset * PER_COUNTRY
                chart.series.append(Series(Reference(sheet, min_col=column, min_row=3, max_row=last),
                                           title=self.names[country.code][:250]))
            chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=last))
            chart.width, chart.height = 26, 12
            sheet.add_chart(chart, f"A{last + 3}")

    def indicators(self, sheet) -> None:
        first = 3
        write(sheet, 1, 1, "", fill=HEADER_FILL)
        write(sheet, 1, 2, "", fill=HEADER_FILL)
        write(sheet, 2, 1, _("Area"), font=BOLD, fill=HEADER_FILL)
        write(sheet, 2, 2, _("Indicator"), font=BOLD, fill=HEADER_FILL)
        sheet.column_dimensions["A"].width = 24
        sheet.column_dimensions["B"].width = 36
        self.country_columns(sheet, first)
        code_column = first + PER_COUNTRY * len(self.data.countries)
        write(sheet, 2, code_column, _("Indicator code"), font=BOLD, fill=HEADER_FILL)
        row = 3
        for area, indicator in self.definition.indicators():
            write(sheet, row, 1, self.t(area.title), wrap=True)
            write(sheet, row, 2, self.t(indicator.title), wrap=True)
            self.figures_row(sheet, row, first, self.data.indicators, indicator.id)
            write(sheet, row, code_column, indicator.id, font=SUBTLE)
            row += 1
        last = row - 1
        finish_table(sheet, columns=code_column, last_row=last, freeze="C3", header_rows=2,
                     header_text=self.header_text, hidden=(code_column,))
        if last >= 3:
            self.formatting(sheet, first, last)

    # --- Largest gaps

    def gaps(self, sheet) -> None:
        header(sheet, [(_("Rank"), 7), (_("Country"), 20), (_("Area"), 26), (_("Indicator"), 36),
                       (_("Assessed level"), 12), (_("Target"), 12), (_("Gap"), 12), (_("Priority"), 12),
                       (_("Coverage"), 12), (_("Indicator code"), 14)])
        row = 2
        for rank, (code, indicator_id, figure) in enumerate(largest_gaps(self.data), start=1):
            write(sheet, row, 1, rank)
            write(sheet, row, 2, self.names[code], wrap=True)
            write(sheet, row, 3, self.t(self.area_of[indicator_id].title), wrap=True)
            write(sheet, row, 4, self.t(self.definition.indicator(indicator_id).title), wrap=True)
            for column, value in enumerate((figure.assessed, figure.target, figure.gap, figure.priority), start=5):
                write(sheet, row, column, level(value), number_format=LEVEL_FORMAT)
            write(sheet, row, 9, round_score(figure.coverage), number_format=PERCENT_FORMAT)
            write(sheet, row, 10, indicator_id, font=SUBTLE)
            row += 1
        last = row - 1
        finish_table(sheet, columns=10, last_row=last, freeze="C2", header_text=self.header_text, hidden=(10,))
        if last >= 2:
            sheet.conditional_formatting.add(f"G2:G{last}", ColorScaleRule(
                start_type="num", start_value=0, start_color="FFFFFF", end_type="max", end_color="F8696B"))

    # --- Response rates

    def rates(self, sheet) -> None:
        statuses = ("not_started", "in_progress", "returned", "submitted", "validated")
        header(sheet, [(_("Country"), 26), (_("Agencies asked"), 12)]
               + [(status_label(s), 12) for s in statuses]
               + [(_("Submitted or validated"), 14), (_("Response rate"), 12)])
        row = 2
        for rate in self.data.response_rates:
            label = (f"{self.names.get(rate.code) or name_in(rate.names, self.lang, rate.code)} ({rate.code})"
                     if rate.code else _("Regional bodies"))
            write(sheet, row, 1, label, wrap=True)
            write(sheet, row, 2, rate.asked)
            for offset, status in enumerate(statuses, start=3):
                write(sheet, row, offset, rate.statuses.get(status, 0))
            write(sheet, row, 8, rate.answered)
            write(sheet, row, 9, round_score(rate.rate, 4), number_format=PERCENT_FORMAT)
            row += 1
        last = row - 1
        rates = self.data.response_rates
        if rates:
            asked, answered = sum(r.asked for r in rates), sum(r.answered for r in rates)
            write(sheet, row, 1, _("Total"), font=BOLD)
            write(sheet, row, 2, asked, font=BOLD)
            for offset, status in enumerate(statuses, start=3):
                write(sheet, row, offset, sum(r.statuses.get(status, 0) for r in rates), font=BOLD)
            write(sheet, row, 8, answered, font=BOLD)
            write(sheet, row, 9, round_score(answered / asked, 4) if asked else None, number_format=PERCENT_FORMAT,
                  font=BOLD)
        finish_table(sheet, columns=9, last_row=last, freeze="B2", header_text=self.header_text)
        if last >= 2:
            sheet.conditional_formatting.add(f"I2:I{last}", DataBarRule(
                start_type="num", start_value=0, end_type="num", end_value=1, color="63BE7B"))
