"""Sending generated files to the browser."""

from __future__ import annotations

import io

from flask import send_file

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_workbook(workbook, filename: str):
    """An openpyxl workbook as an .xlsx download (never cached by the browser or a proxy)."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename, max_age=0)
