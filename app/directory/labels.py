"""Translated labels of the directory's codes: agency types, languages, and the import's problem codes."""

from __future__ import annotations

from app.directory.models import AGENCY_TYPES
from app.directory.workbooks import Problem
from app.i18n import LOCALE_NAMES, _, _l


def agency_type_labels() -> dict[str, str]:
    """Each agency type code with its label in the current language, in AGENCY_TYPES order."""
    labels = {
        # i18n: kind of agency
        "interior": _("Ministry of internal affairs / police"),
        "prosecutor": _("Prosecutor general's office"),
        "fiu": _("Financial intelligence unit"),
        "security": _("State security service"),
        "border": _("Border service"),
        "customs": _("Customs service"),
        "emergency": _("Emergency service"),
        "justice": _("Ministry of justice / courts"),
        "foreign_affairs": _("Ministry of foreign affairs"),
        # i18n: an agency that belongs to no single country, e.g. RATS SCO
        "regional": _("Regional body"),
        # i18n: kind of agency
        "other": _("Other"),
    }
    return {code: labels.get(code, code) for code in AGENCY_TYPES}


def agency_type_label(code: str) -> str:
    """The label of one agency type (the code itself when unknown)."""
    return agency_type_labels().get(code, code)


def language_name(code: str) -> str:
    """A language's name in that language (Русский, English), or its code."""
    return LOCALE_NAMES.get(code, code)


#: Sentences for the problem codes of workbooks.read_directory; parameters are filled with %.
PROBLEM_MESSAGES = {
    "too_large": _l("The file is larger than %(limit_mb)s MB. Split it into several files."),
    "too_large_unpacked": _l("The workbook unpacks to more than %(limit_mb)s MB; it cannot be read safely."),
    "empty_file": _l("The file is empty."),
    "encrypted": _l("The workbook is protected with a password (encrypted). Remove the password in Excel "
                    "(File › Info › Protect Workbook) and upload it again."),
    "old_format": _l("This is an old Excel 97–2003 (.xls) file. Save it as an Excel workbook (.xlsx) and upload "
                     "it again."),
    "binary_format": _l("This is an Excel binary workbook (.xlsb). Save it as an Excel workbook (.xlsx) and upload "
                        "it again."),
    "not_workbook": _l("The file is not an Excel workbook (.xlsx). Download the template, fill it in and upload "
                       "it as .xlsx."),
    "damaged": _l("The workbook is damaged and cannot be read. Open it in Excel, save it again as .xlsx and "
                  "upload it again."),
    "no_sheets": _l("The workbook has no sheet of agencies or contacts (expected a sheet named %(expected)s; "
                    "found %(found)s)."),
    "too_many_rows": _l("The sheet has more than %(limit)s rows. Split it into several files."),
    "missing_column": _l("The column “%(column)s” (or “%(column_ru)s”) is missing."),
    "missing_name_columns": _l("There is no column for agency names, such as “%(example)s”."),
    "duplicate_column": _l("This column appears twice (also as “%(first)s”)."),
    "required": _l("This cell must be filled in."),
    "too_long": _l("The text is too long (%(length)s characters; at most %(limit)s)."),
    "unknown_country": _l("Unknown country “%(value)s”. Use one of the codes %(choices)s, or leave the cell "
                          "empty for a regional body."),
    "unknown_kind": _l("Unknown agency type “%(value)s”. Use one of %(choices)s."),
    "unknown_language": _l("Unknown language “%(value)s”. Use one of %(choices)s."),
    "missing_name": _l("The agency needs a name in at least one language."),
    "duplicate_agency": _l("The agency %(country)s / %(acronym)s is already on row %(first_row)s."),
    "bad_email": _l("“%(value)s” is not a valid e-mail address (%(reason)s)."),
    "duplicate_email": _l("The e-mail address %(value)s is already on row %(first_row)s."),
    "account_email": _l("%(value)s is the address of a staff or expert account, and a contact signs in with personal "
                        "links sent to it: give the contact an address of their own."),
    "unknown_agency": _l("There is no agency %(country)s / %(acronym)s on the agencies sheet or in the directory."),
    "unknown_regional_agency": _l("There is no regional body (without a country) with the acronym “%(acronym)s” "
                                  "on the agencies sheet or in the directory."),
    "bad_yes_no": _l("“%(value)s” is neither yes nor no."),
    "merged_cells": _l("The cells %(range)s are merged, so only the first of them can be read. Unmerge them and "
                       "fill in every cell."),
    "renamed_sheet": _l("The sheet “%(sheet)s” has the columns of the sheet %(expected)s but another name, so "
                        "it would not be read. Rename it (or delete it, if it is a copy)."),
    "headless_column": _l("Column %(column)s has values but no heading, so they would not be read. Give the column "
                          "a heading from the template, or clear it."),
    "unsaved_formula": _l("This cell holds a formula (%(formula)s) whose result was not saved in the file, so it "
                          "would be read as empty. Type the value itself, or open the workbook in Excel or "
                          "LibreOffice, save it and upload it again."),
    "formula_error": _l("This cell holds a formula (%(formula)s) whose result is the error %(error)s, not a "
                        "value. Correct the formula, or type the value itself."),
    "duplicate_sheet": _l("The sheets “%(first)s” and “%(sheet)s” hold the same kind of rows, and only one can be "
                          "read. Move all the rows onto one of them and delete the other."),
}


def problem_text(problem: Problem) -> str:
    """A problem as one sentence in the current language: `<sheet> row <n>, column <heading>: message`."""
    template = PROBLEM_MESSAGES.get(problem.code)
    message = str(template) % problem.params if template is not None else problem.code
    if problem.sheet and problem.row and problem.column:
        return _("%(sheet)s row %(row)s, column %(column)s: %(message)s", sheet=problem.sheet, row=problem.row,
                 column=problem.column, message=message)
    if problem.sheet and problem.row:
        return _("%(sheet)s row %(row)s: %(message)s", sheet=problem.sheet, row=problem.row, message=message)
    if problem.sheet and problem.column:
        return _("%(sheet)s, column %(column)s: %(message)s", sheet=problem.sheet, column=problem.column,
                 message=message)
    if problem.sheet:
        return _("%(sheet)s: %(message)s", sheet=problem.sheet, message=message)
    return message
