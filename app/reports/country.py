"""The country gap report: `build_country_report(data, lang) -> Workbook`, pure (no database, no request).

Sheets, in order: Cover, Summary (areas, conditional formatting, a bar chart of levels against targets),
Indicators (ranked by priority), Agencies (agencies x indicators levels), Answers (every question by agency,
labels in the report's language, codes in hidden columns), Clarifications, Internal comments (only when the data
holds them: `country_report_data(..., include_comments=True)`), Methodology.

Every text is written with app.reports.cells.put (formula-like texts stay text; Excel's cell limit), every
label is translated with `_` under `force_locale(lang)`; questionnaire texts are taken in `lang` when the
questionnaire has it, else in its first language. Figures are the materialized scores rounded for display with
`engine.round_score` (2 decimals; coverage as a fraction shown in %). The sheet helpers at the top are shared with
app.reports.regional.
"""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, date, datetime
from typing import Any

from babel import UnknownLocaleError
from babel.numbers import format_decimal
from flask_babel import pgettext
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import ColorScaleRule, DataBarRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from app.i18n import _, force_locale, in_reader_zone, zone_label
from app.questionnaires.forms import tr
from app.questionnaires.qtypes import is_special
from app.questionnaires.rendering import visibility
from app.reports.cells import put
from app.reports.data import Branding, CountryReportData, Figures
from app.responses.display import display
from app.scoring.engine import rank_key, round_score

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
SUBTLE = Font(color="808080", italic=True)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
LEVEL_FORMAT = "0.00"
PERCENT_FORMAT = "0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: Characters Excel refuses in sheet names, and its length limit.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: How many of the largest gaps the cover lists.
COVER_PRIORITIES = 5


# --- shared sheet helpers ------------------------------------------------------------------------------


def sheet_title(text: str) -> str:
    """A text usable as a sheet name (no []:*?/\\, at most 31 characters)."""
    return _SHEET_FORBIDDEN.sub(" ", text).strip()[:31] or "Sheet"


def plain(text: str) -> str:
    """A text without control characters (document properties, print headers)."""
    return _CONTROL.sub(" ", text or "")


def name_in(names: dict, lang: str, fallback: str = "") -> str:
    """A name from {lang: name}: in `lang`, else English, else Russian, else any, else `fallback`."""
    names = names or {}
    return names.get(lang) or names.get("en") or names.get("ru") or next(iter(names.values()), "") or fallback


def excel_datetime(moment: datetime | None) -> datetime | None:
    """A naive UTC datetime (Excel has no time zones); None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def local_moment(moment: datetime | None) -> datetime | None:
    """A stored time as the reader's clock shows it (the browser's zone, or TIMEZONE; naive, since Excel has no
    zones): a submission at 20:00 UTC is the next day in Almaty, as the response's page says."""
    return in_reader_zone(moment).replace(tzinfo=None) if moment is not None else None


def write(sheet, row: int, column: int, value: Any, *, number_format: str | None = None, font: Font | None = None,
          wrap: bool = False, fill: PatternFill | None = None):
    """Write one value with cells.put (texts safe), with optional format and style; returns the cell."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, datetime):
        value = excel_datetime(value)
    put(cell, value)
    if number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    if wrap:
        cell.alignment = WRAP
    if fill is not None:
        cell.fill = fill
    return cell


def level(value: float | None) -> float | None:
    """A level as displayed (2 decimals, half up)."""
    return round_score(value)


def header(sheet, columns: list[tuple[str, float]], row: int = 1) -> None:
    """A bold, filled, wrapped header row; each column gets its width."""
    for index, (title, width) in enumerate(columns, start=1):
        write(sheet, row, index, title, font=BOLD, fill=HEADER_FILL, wrap=True)
        sheet.column_dimensions[get_column_letter(index)].width = width


def finish_table(sheet, *, columns: int, last_row: int, freeze: str, header_rows: int = 1, header_text: str = "",
                 hidden: tuple[int, ...] = (), header_notice: str = "") -> None:
    """Auto-filter over the table, frozen header rows (and first columns), hidden code columns, print set-up."""
    last_row = max(last_row, header_rows + 1)
    sheet.auto_filter.ref = f"A{header_rows}:{get_column_letter(columns)}{last_row}"
    sheet.freeze_panes = freeze
    for column in hidden:
        sheet.column_dimensions[get_column_letter(column)].hidden = True
    print_setup(sheet, title_rows=f"1:{header_rows}", header_text=header_text, header_notice=header_notice)


#: Characters of a page header's part that Excel takes (the whole header holds 255).
HEADER_LIMIT = 200


def print_setup(sheet, *, title_rows: str | None = "1:1", header_text: str = "", header_notice: str = "") -> None:
    """Landscape A4, fit to the page width, header rows repeated on every page, page numbers in the footer;
    `header_notice` ("not for distribution") is printed whole after the header text, which is cut to make room."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is None:
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties()
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    if title_rows:
        sheet.print_title_rows = title_rows
    if header_text or header_notice:
        notice = (" · " + plain(header_notice).replace("&", "&&")) if header_notice else ""
        text = plain(header_text).replace("&", "&&")
        room = HEADER_LIMIT - len(notice)
        if len(text) > room:
            text = text[:room - 1].rstrip("&").rstrip() + "…"  # never half of an escaped "&&"
        sheet.oddHeader.left.text = text + notice
    sheet.oddFooter.right.text = "&P / &N"


def key_values(sheet, row: int, pairs: list[tuple[str, Any, str | None]]) -> int:
    """Label / value rows (label bold in A, value in B); returns the next free row."""
    for label, value, number_format in pairs:
        write(sheet, row, 1, label, font=BOLD)
        write(sheet, row, 2, value, number_format=number_format, wrap=True).alignment = Alignment(
            wrap_text=True, vertical="top", horizontal="left")
        row += 1
    return row


def add_logo(sheet, branding: Branding, anchor: str) -> bool:
    """Embed the branding's logo when there is one and Pillow (which openpyxl needs for images) is installed."""
    if branding.logo is None or importlib.util.find_spec("PIL") is None:
        return False
    from openpyxl.drawing.image import Image

    try:
        image = Image(str(branding.logo))
    except (OSError, ValueError):
        return False
    scale = min(1.0, 60 / max(image.height or 1, 1))
    image.width, image.height = image.width * scale, image.height * scale
    sheet.add_image(image, anchor)
    return True


def branding_rows(sheet, row: int, branding: Branding, lang: str) -> int:
    """Funder statement and confidentiality note (when branding.yaml has them); returns the next free row."""
    for key, font in (("funder_statement", None), ("confidentiality", Font(bold=True, color="9C0006"))):
        text = branding.text(key, lang)
        if text:
            write(sheet, row, 2, text, wrap=True, font=font)
            row += 1
    return row


def cover_heading(sheet, branding: Branding, lang: str, title: str) -> int:
    """A cover's column widths, the project name (when branding.yaml has one) and the report's title; returns
    the title's row."""
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 90
    row = 1
    project = branding.text("project_name", lang)
    if project:
        write(sheet, row, 1, project, font=Font(bold=True, size=12, color="1F4E79"))
        row += 1
    write(sheet, row, 1, title, font=Font(bold=True, size=18))
    return row


def cover_footer(sheet, row: int, branding: Branding, lang: str, header_text: str) -> None:
    """A cover's funder and confidentiality notes from `row`, the logo, and its portrait print set-up."""
    branding_rows(sheet, row, branding, lang)
    add_logo(sheet, branding, "C1")
    print_setup(sheet, title_rows=None, header_text=header_text)
    sheet.page_setup.orientation = "portrait"


def effective_targets(targets: dict[str, tuple[float, float | None]]) -> dict[str, float]:
    """{indicator id: target} from {indicator id: (default, override or None)}: the override where there is one."""
    return {i: override if override is not None else default for i, (default, override) in targets.items()}


def reading_guide(sheet, row: int, entries: list[tuple[str, str]]) -> int:
    """"How to read this report": each sheet with what it shows; returns the next free row."""
    write(sheet, row, 1, _("How to read this report"), font=Font(bold=True, size=12))
    row += 1
    for name, text in entries:
        write(sheet, row, 1, name, font=BOLD)
        write(sheet, row, 2, text, wrap=True)
        row += 1
    return row


def set_properties(workbook: Workbook, *, title: str, subject: str, branding: Branding, lang: str,
                   created: datetime) -> None:
    """Document properties: title, subject, creator, language, dates."""
    props = workbook.properties
    props.title = plain(title)[:250]
    props.subject = plain(subject)[:250]
    props.creator = plain(branding.text("author", lang) or branding.text("project_name", lang)
                          or "Needs Assessment")[:250]
    props.language = lang
    props.created = props.modified = excel_datetime(created)


def methodology_sheet(workbook: Workbook, definition, qlang: str, targets: list[tuple[str, dict]],
                      header_text: str) -> None:
    """The rating scale, how the figures are computed (in plain words, after app.scoring.engine), and the targets:
    `targets` is [(column heading, {indicator id: target})], e.g. the default and this country's."""
    sheet = workbook.create_sheet(sheet_title(_("Methodology")))
    default = definition.languages[0]
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 70
    for letter in "CDEFGHIJKL":
        sheet.column_dimensions[letter].width = 16
    write(sheet, 1, 1, _("Methodology"), font=Font(bold=True, size=14))
    row = 3
    write(sheet, row, 1, _("Rating scale"), font=Font(bold=True, size=12))
    row += 1
    write(sheet, row, 1, _("Level"), font=BOLD, fill=HEADER_FILL)
    write(sheet, row, 2, _("Meaning"), font=BOLD, fill=HEADER_FILL)
    row += 1
    for scale_level in definition.scale:
        write(sheet, row, 1, scale_level.level).alignment = Alignment(horizontal="left", vertical="top")
        label = tr(scale_level.label, qlang, default)
        description = tr(scale_level.description, qlang, default) if scale_level.description else ""
        write(sheet, row, 2, f"{label}: {description}" if description else label, wrap=True)
        row += 1
    row += 1
    write(sheet, row, 1, _("How the figures are computed"), font=Font(bold=True, size=12))
    row += 1
    for term, text in _method_texts():
        write(sheet, row, 1, term, font=BOLD, wrap=True)
        write(sheet, row, 2, text, wrap=True)
        row += 1
    row += 1
    write(sheet, row, 1, _("Targets"), font=Font(bold=True, size=12))
    row += 1
    headings = [_("Area"), _("Indicator"), *(heading for heading, _values in targets), _("Indicator weight"),
                _("Area weight"), _("Aggregation of agency levels")]
    for column, heading in enumerate(headings, start=1):
        write(sheet, row, column, heading, font=BOLD, fill=HEADER_FILL, wrap=True)
    row += 1
    aggregation = {"mean": _("mean"), "max": _("highest"), "min": _("lowest")}
    for area, indicator in definition.indicators():
        write(sheet, row, 1, tr(area.title, qlang, default), wrap=True)
        write(sheet, row, 2, tr(indicator.title, qlang, default), wrap=True)
        column = 3
        for _heading, values in targets:
            write(sheet, row, column, values.get(indicator.id), number_format=LEVEL_FORMAT)
            column += 1
        write(sheet, row, column, indicator.weight)
        write(sheet, row, column + 1, area.weight)
        write(sheet, row, column + 2, aggregation.get(indicator.aggregation, indicator.aggregation))
        row += 1
    print_setup(sheet, title_rows=None, header_text=header_text)


def _method_texts() -> list[tuple[str, str]]:
    return [
        (_("Level of an answer"), _(
            "Each scored question turns its answer into a level of the scale: the chosen level, or the score of "
            "the chosen answer; yes, partly and no give the highest, a middle and the lowest level unless the "
            "questionnaire sets them; for several ticked answers, the share of scored answers ticked; for a number, "
            "the level of the highest threshold it reaches; a table question gives a level per row.")),
        (_("Level of an agency"), _(
            "For each indicator, the weighted mean of the levels of the agency's answers to the questions that "
            "measure it. “Not applicable”, “Don't know”, unanswered questions and answers without a level never "
            "count as zero: they lower the coverage instead. Questions hidden by the questionnaire's skip logic do "
            "not count at all.")),
        (_("Coverage"), _(
            "The share, by weight, of the questions that apply to an indicator and were answered with a level. For "
            "a country it is pooled over its agencies; for an area it is the weighted mean of its indicators' "
            "coverage. A level with a low coverage rests on few answers.")),
        (_("Self-assessed level"), _(
            "The levels of the country's agencies combined: their mean (each agency counts once), or the highest or "
            "lowest where the questionnaire says so. Only submitted and validated answers count; answers in "
            "progress or returned to the agency for clarification do not.")),
        (_("Expert level"), _("The latest rating of the indicator by a project expert, with its rationale.")),
        (_("Assessed level"), _("The expert level where there is one, else the self-assessed level.")),
        (_("Self-assessment and expert differ"), _(
            "Marked when both levels exist and differ by one level of the scale or more.")),
        (_("Target"), _(
            "The level the country should reach: the questionnaire's default target of the indicator, or the "
            "target the campaign sets for this country (see the table below).")),
        (_("Gap"), _("Target minus assessed level, never below zero; empty when there is no assessed level.")),
        (_("Priority"), _(
            "Gap × indicator weight × area weight: the larger, the more urgent. Indicators are ranked by priority, "
            "then by gap.")),
        (_("Area figures"), _(
            "Weighted means (by indicator weight) of the figures of the area's indicators that have them. The area "
            "target and gap are taken over the indicators that have an assessed level.")),
        (_("Rounding"), _(
            "Figures are shown with two decimals, rounded half up; every computation uses the full precision.")),
    ]


def status_label(status: str) -> str:
    """A response status as people read it."""
    return {"not_started": _("not started"), "in_progress": _("in progress"), "submitted": _("submitted"),
            "returned": _("returned"), "validated": _("validated")}.get(status, status)


def ranked_indicators(definition, indicators: dict[str, Figures]) -> list[str]:
    """Every indicator id, largest priority first (ties: larger gap, then questionnaire order); without a
    priority last."""
    order = [indicator.id for _area, indicator in definition.indicators()]
    return sorted(order, key=lambda i: (*rank_key(indicators[i].priority, indicators[i].gap), order.index(i)))


# --- the country report --------------------------------------------------------------------------------


def country_sheet_names(include_comments: bool) -> list[str]:
    """The sheet names of the country report, in order, in the current language."""
    names = [_("Cover"), _("Summary"), _("Indicators"), _("Agencies"), _("Answers"), _("Clarifications")]
    if include_comments:
        names.append(_("Internal comments"))
    names.append(_("Methodology"))
    return [sheet_title(name) for name in names]


def build_country_report(data: CountryReportData, lang: str) -> Workbook:
    """The country gap report in `lang` (the interface language of labels; questionnaire texts in `lang` when the
    questionnaire has it)."""
    with force_locale(lang):
        return _CountryReport(data, lang).build()


class _CountryReport:
    def __init__(self, data: CountryReportData, lang: str):
        self.data = data
        self.lang = lang
        self.definition = data.definition
        self.qlang = data.definition.language_for(lang)
        self.default = data.definition.languages[0]
        self.country = name_in(data.country.names, lang, data.country.code)
        self.title = _("Country gap report")
        self.header_text = f"{self.title}: {self.country} · {data.campaign.name_in(self.lang)}"
        self.area_of = {indicator.id: area for area, indicator in data.definition.indicators()}

    def t(self, text) -> str:
        return tr(text, self.qlang, self.default)

    def build(self) -> Workbook:
        workbook = Workbook()
        names = country_sheet_names(self.data.comments is not None)
        workbook.active.title = names[0]
        self.cover(workbook.active)
        self.summary(workbook.create_sheet(names[1]))
        self.indicators(workbook.create_sheet(names[2]))
        self.agencies(workbook.create_sheet(names[3]))
        self.answers(workbook.create_sheet(names[4]))
        self.clarifications(workbook.create_sheet(names[5]))
        if self.data.comments is not None:
            self.comments(workbook.create_sheet(names[6]))
        targets = {i: default for i, (default, _override) in self.data.targets.items()}
        country_targets = effective_targets(self.data.targets)
        methodology_sheet(workbook, self.definition, self.qlang,
                          [(_("Default target"), targets), (_("Target for %(country)s", country=self.country),
                                                            country_targets)], self.header_text)
        set_properties(workbook, title=f"{self.title}: {self.country} · {self.data.campaign.name_in(self.lang)}",
                       subject=self.t(self.data.campaign.questionnaire_title), branding=self.data.branding,
                       lang=self.lang, created=self.data.generated_at)
        return workbook

    # --- Cover

    def cover(self, sheet) -> None:
        data = self.data
        row = cover_heading(sheet, data.branding, self.lang, self.title)
        write(sheet, row + 1, 1, self.country, font=Font(bold=True, size=14))
        row += 3
        answered = sum(1 for a in data.agencies if a.status in ("submitted", "validated"))
        row = key_values(sheet, row, [
            (_("Campaign"), data.campaign.name_in(self.lang), None),
            (_("Country"), f"{self.country} ({data.country.code})", None),
            (_("Questionnaire"), self.t(data.campaign.questionnaire_title), None),
            (_("Questionnaire version"), data.campaign.version_label, None),
            (_("Deadline"), data.campaign.deadline, DATE_FORMAT),
            (_("Generated on (UTC)"), data.generated_at, DATETIME_FORMAT),
            (_("Agencies asked"), len(data.agencies), None),
            (_("Agencies that submitted their answers"), answered, None),
            (_("Internal comments"), _("included: not for distribution to the agencies")
             if data.comments is not None else _("not included"), None),
        ])
        row += 1
        ranked = [i for i in ranked_indicators(self.definition, data.indicators)
                  if (data.indicators[i].gap or 0) > 0][:COVER_PRIORITIES]
        # ranked by priority (gap × weights), as the Indicators sheet: "largest gaps" left out larger unweighted gaps
        write(sheet, row, 1, _("Highest priorities (gap × indicator weight × area weight)"), font=Font(bold=True,
                                                                                                   size=12))
        row += 1
        if not ranked:
            write(sheet, row, 2, _("No gap to a target yet (or no submitted answers)."), font=SUBTLE)
            row += 1
        for rank, indicator_id in enumerate(ranked, start=1):
            figure = data.indicators[indicator_id]
            indicator = self.definition.indicator(indicator_id)
            write(sheet, row, 1, f"{rank}. {self.t(self.area_of[indicator_id].title)}", wrap=True)
            write(sheet, row, 2, _("%(indicator)s: gap %(gap)s (assessed %(assessed)s, target %(target)s)",
                                   indicator=self.t(indicator.title), gap=_number(level(figure.gap), self.lang),
                                   assessed=_number(level(figure.assessed), self.lang),
                                   target=_number(level(figure.target), self.lang)),
                  wrap=True)
            row += 1
        row += 1
        row = reading_guide(sheet, row, self.guide())
        cover_footer(sheet, row + 1, data.branding, self.lang, self.header_text)

    def guide(self) -> list[tuple[str, str]]:
        names = country_sheet_names(self.data.comments is not None)
        texts = [
            _("One row per thematic area: self-assessed, expert and assessed level, target, gap and coverage, with "
              "a chart of the levels against the targets."),
            _("Every indicator, the highest priority first, with the number of agencies answering and the latest "
              "expert rationale."),
            _("Each agency's status, submission date and self-assessed level per indicator (submitted and "
              "validated answers only)."),
            _("Every question with each agency's answer in the report's language; hidden columns hold the codes."),
            _("Questions the experts asked the agencies to clarify, with the replies and the answers before and "
              "after."),
        ]
        if self.data.comments is not None:
            texts.append(_("The reviewers' internal comments: not for distribution to the agencies."))
        texts.append(_("The rating scale, how the figures are computed, and the targets used."))
        return list(zip(names[1:], texts, strict=True))

    # --- Summary

    def summary(self, sheet) -> None:
        header(sheet, [(_("Area"), 40), (_("Self-assessed"), 14), (_("Expert"), 14), (_("Assessed level"), 14),
                       (_("Target"), 14), (_("Gap"), 14), (_("Coverage"), 14), (_("Area code"), 14)])
        row = 2
        for area in self.definition.areas:
            figure = self.data.areas.get(area.id) or Figures()
            write(sheet, row, 1, self.t(area.title), wrap=True)
            for column, value in enumerate((figure.self_assessed, figure.expert, figure.assessed, figure.target,
                                            figure.gap), start=2):
                write(sheet, row, column, level(value), number_format=LEVEL_FORMAT)
            write(sheet, row, 7, round_score(figure.coverage), number_format=PERCENT_FORMAT)
            write(sheet, row, 8, area.id, font=SUBTLE)
            row += 1
        last = row - 1
        finish_table(sheet, columns=8, last_row=last, freeze="B2", header_text=self.header_text, hidden=(8,))
        if last >= 2:
            low, high = self.definition.min_level, self.definition.max_level
            sheet.conditional_formatting.add(f"B2:D{last}", DataBarRule(
                start_type="num", start_value=low, end_type="num", end_value=high, color="5B9BD5"))
            sheet.conditional_formatting.add(f"F2:F{last}", ColorScaleRule(
                start_type="num", start_value=0, start_color="FFFFFF", end_type="num", end_value=high - low,
                end_color="F8696B"))
            chart = BarChart()
            chart.type = "col"
            chart.grouping = "clustered"
            chart.title = _("Assessed level and target by area")
            chart.y_axis.title = _("Level")
            chart.y_axis.scaling.min = low
            chart.y_axis.scaling.max = high
            chart.y_axis.majorUnit = 1
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            chart.add_data(Reference(sheet, min_col=4, max_col=5, min_row=1, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last))
            chart.width, chart.height = 24, 11
            sheet.add_chart(chart, f"A{last + 3}")

    # --- Indicators

    def indicators(self, sheet) -> None:
        header(sheet, [(_("Rank"), 7), (_("Area"), 26), (_("Indicator"), 36), (_("Self-assessed"), 12),
                       (_("Expert"), 12), (_("Assessed level"), 12), (_("Target"), 12), (_("Gap"), 12),
                       (_("Priority"), 12), (_("Coverage"), 12), (_("Agencies answering"), 12),
                       (_("Agencies to which it applies"), 12), (_("Self-assessment and expert differ"), 14),
                       (_("Experts' latest levels differ"), 24), (_("Latest expert rationale"), 60),
                       (_("Rated by"), 20), (_("Rated on"), 12), (_("Indicator code"), 14)])
        row = 2
        for rank, indicator_id in enumerate(ranked_indicators(self.definition, self.data.indicators), start=1):
            figure = self.data.indicators[indicator_id]
            rating = self.data.rationales.get(indicator_id)
            write(sheet, row, 1, rank)
            write(sheet, row, 2, self.t(self.area_of[indicator_id].title), wrap=True)
            write(sheet, row, 3, self.t(self.definition.indicator(indicator_id).title), wrap=True)
            for column, value in enumerate((figure.self_assessed, figure.expert, figure.assessed, figure.target,
                                            figure.gap, figure.priority), start=4):
                write(sheet, row, column, level(value), number_format=LEVEL_FORMAT)
            write(sheet, row, 10, round_score(figure.coverage), number_format=PERCENT_FORMAT)
            write(sheet, row, 11, figure.agencies_with_level)
            write(sheet, row, 12, figure.agencies)
            write(sheet, row, 13, _("Yes") if figure.disagreement else "")
            experts = self.data.experts_differ.get(indicator_id)
            if experts:
                write(sheet, row, 14, "; ".join(f"{name}: {_number(value, self.lang)}"
                                                for name, value in experts.items()), wrap=True)
            if rating is not None:
                write(sheet, row, 15, rating.rationale, wrap=True)
                write(sheet, row, 16, rating.expert, wrap=True)
                write(sheet, row, 17, local_moment(rating.at), number_format=DATE_FORMAT)
            write(sheet, row, 18, indicator_id, font=SUBTLE)
            row += 1
        last = row - 1
        finish_table(sheet, columns=18, last_row=last, freeze="D2", header_text=self.header_text, hidden=(18,))
        if last >= 2:
            high = self.definition.max_level - self.definition.min_level
            sheet.conditional_formatting.add(f"H2:H{last}", ColorScaleRule(
                start_type="num", start_value=0, start_color="FFFFFF", end_type="num", end_value=high,
                end_color="F8696B"))
            sheet.conditional_formatting.add(f"F2:F{last}", DataBarRule(
                start_type="num", start_value=self.definition.min_level, end_type="num",
                end_value=self.definition.max_level, color="5B9BD5"))

    # --- Agencies

    def agencies(self, sheet) -> None:
        indicators = [indicator for _area, indicator in self.definition.indicators()]
        columns = [(_("Agency"), 12), (pgettext("agency", "Name"), 36), (_("Type of agency"), 22), (_("Status"), 13),
                   (_("Submitted on"), 12), (_("Validated on"), 12), (_("Required questions answered"), 12)]
        columns += [(self.t(indicator.title), 14) for indicator in indicators]
        header(sheet, columns)
        sheet.row_dimensions[1].height = 75
        from app.directory.labels import agency_type_label

        row = 2
        for agency in self.data.agencies:
            write(sheet, row, 1, agency.acronym)
            write(sheet, row, 2, name_in(agency.names, self.lang, agency.acronym), wrap=True)
            write(sheet, row, 3, agency_type_label(agency.kind), wrap=True)
            write(sheet, row, 4, status_label(agency.status))
            write(sheet, row, 5, local_moment(agency.submitted_at), number_format=DATE_FORMAT)
            write(sheet, row, 6, local_moment(agency.validated_at), number_format=DATE_FORMAT)
            write(sheet, row, 7, agency.percent_required / 100, number_format=PERCENT_FORMAT)
            for offset, indicator in enumerate(indicators):
                write(sheet, row, 8 + offset, level(agency.levels.get(indicator.id)), number_format=LEVEL_FORMAT)
            row += 1
        last = row - 1
        last_column = 7 + len(indicators)
        finish_table(sheet, columns=last_column, last_row=last, freeze="B2", header_text=self.header_text)
        if last >= 2 and indicators:
            sheet.conditional_formatting.add(
                f"H2:{get_column_letter(last_column)}{last}",
                ColorScaleRule(start_type="num", start_value=self.definition.min_level, start_color="F8696B",
                               mid_type="percentile", mid_value=50, mid_color="FFEB84",
                               end_type="num", end_value=self.definition.max_level, end_color="63BE7B"))

    # --- Answers

    def answers(self, sheet) -> None:
        answering = [a for a in self.data.agencies if a.values is not None]
        columns = [(_("Section"), 24), (_("Question"), 50), (_("Question code"), 16)]
        for agency in answering:
            columns += [(agency.acronym, 40), (_("%(agency)s: codes", agency=agency.acronym), 20)]
        header(sheet, columns)
        places: dict[int, dict[str, tuple[Any, Any]]] = {}
        seen = [visibility(agency.definition or self.definition, agency.values or {}) for agency in answering]
        row = 2
        for section, question in self.definition.questions():
            if question.type == "note":
                continue
            write(sheet, row, 1, self.t(section.title), wrap=True)
            write(sheet, row, 2, self.t(question.label), wrap=True)
            write(sheet, row, 3, question.id, font=SUBTLE)
            for offset, agency in enumerate(answering):
                definition = agency.definition or self.definition
                where = places.get(id(definition))
                if where is None:  # (not setdefault: its default would be built again for every cell)
                    where = places[id(definition)] = {q.id: (s, q) for s, q in definition.questions()}
                label_column = 4 + 2 * offset
                found = where.get(question.id)
                if found is None:
                    continue
                own_section, own_question = found
                values = agency.values or {}
                if not seen[offset].shown(own_question):
                    write(sheet, row, label_column, _("Does not apply"), font=SUBTLE)
                    continue
                value = values.get(own_question.id)
                label = self.answer_label(definition, own_question, value)
                write(sheet, row, label_column, label, wrap=True,
                      number_format=DATE_FORMAT if isinstance(label, date) else None)
                write(sheet, row, label_column + 1, answer_code(own_question, value))
            row += 1
        last_column = len(columns)
        hidden = (3, *range(5, last_column + 1, 2))
        finish_table(sheet, columns=last_column, last_row=row - 1, freeze="D2", header_text=self.header_text,
                     hidden=hidden)

    def answer_label(self, definition, question, value) -> Any:
        """A number as a number and a date as a date cell (Excel sorts and filters them); anything else as text."""
        if question.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if question.type == "date" and isinstance(value, str):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                day = None
            if day is not None and day.year >= 1900:  # Excel shows no date before 1900
                return day
        return display(definition, question, value, self.qlang)

    # --- Clarifications and comments

    def question_label(self, definition, question_id: str) -> str:
        question = definition.question(question_id)
        return self.t(question.label) if question is not None else question_id

    def value_label(self, definition, question_id: str, value) -> str:
        question = definition.question(question_id)
        if question is None:
            return "" if value is None else str(value)
        return display(definition, question, value, self.qlang)

    def clarifications(self, sheet) -> None:
        header(sheet, [(_("Agency"), 12), (_("Question"), 36), (_("Request"), 44), (_("Requested by"), 18),
                       (_("Requested on"), 12), (_("Agency's reply"), 44), (_("Replied on"), 12), (_("Before"), 26),
                       (_("After"), 26), (_("Answer"), 14), (_("State"), 16), (_("Question code"), 16)])
        row = 2
        for item in self.data.clarifications:
            write(sheet, row, 1, item.agency)
            write(sheet, row, 2, self.question_label(item.definition, item.question_id), wrap=True)
            write(sheet, row, 3, item.message, wrap=True)
            write(sheet, row, 4, item.requested_by, wrap=True)
            write(sheet, row, 5, local_moment(item.requested_at), number_format=DATE_FORMAT)
            write(sheet, row, 6, item.reply, wrap=True)
            write(sheet, row, 7, local_moment(item.replied_at), number_format=DATE_FORMAT)
            write(sheet, row, 8, self.value_label(item.definition, item.question_id, item.value_before), wrap=True)
            if item.closed_at is not None:
                write(sheet, row, 9, self.value_label(item.definition, item.question_id, item.value_after),
                      wrap=True)
                write(sheet, row, 10, _("Changed") if item.value_after != item.value_before else _("Unchanged"))
                write(sheet, row, 11, _("answered"))
            else:
                write(sheet, row, 11, _("waiting for the agency"))
            write(sheet, row, 12, item.question_id, font=SUBTLE)
            row += 1
        finish_table(sheet, columns=12, last_row=row - 1, freeze="C2", header_text=self.header_text, hidden=(12,))

    def comments(self, sheet) -> None:
        header(sheet, [(_("Agency"), 12), (_("Question"), 40), (_("Comment"), 70), (_("In reply to"), 30),
                       (_("Author"), 20), (_("Written on (%(zone)s)", zone=zone_label(self.data.generated_at)), 16),
                       (_("Question code"), 16)])
        row = 2
        for item in self.data.comments or []:
            write(sheet, row, 1, item.agency)
            write(sheet, row, 2, self.question_label(item.definition, item.question_id), wrap=True)
            cell = write(sheet, row, 3, item.body, wrap=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top", indent=2 * item.depth)
            if item.reply_to:  # said in words too: an indent alone is lost when the rows are sorted or filtered
                write(sheet, row, 4, "↳ " + item.reply_to, wrap=True, font=SUBTLE)
            write(sheet, row, 5, item.author, wrap=True)
            write(sheet, row, 6, local_moment(item.at), number_format=DATETIME_FORMAT)
            write(sheet, row, 7, item.question_id, font=SUBTLE)
            row += 1
        finish_table(sheet, columns=7, last_row=row - 1, freeze="C2", hidden=(7,), header_text=self.header_text,
                     header_notice=_("Internal: not for distribution to the agencies"))


def _number(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    try:
        return format_decimal(value, format="0.##", locale=lang)
    except (UnknownLocaleError, ValueError):
        return f"{value:g}"


def answer_code(question, value) -> Any:
    """The stored answer as codes (choice values, levels, numbers, ISO dates); "" for free text and files."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if is_special(value):
        return value
    if question.type in ("text", "long_text", "file"):
        return ""
    if question.type == "multiple_choice" and isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if question.type == "matrix" and isinstance(value, dict):
        return "; ".join(f"{row}={cell}" for row, cell in value.items() if cell is not None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return str(value)
