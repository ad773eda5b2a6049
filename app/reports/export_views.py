"""Downloads of the raw data: a campaign's responses for staff (all) and experts (their countries), and a
respondent's own response. Options come from the query string:
`?format=xlsx|csv&codes=0|1&lang=en|ru&multi=columns|joined` (and `sheet=data|codebook` for CSV)."""

from __future__ import annotations

import tempfile

from flask import Blueprint, Response, abort, g, request, send_file
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.http import quote_header_value

from app.auth.permissions import require_role
from app.campaigns.services import get_campaign
from app.core.downloads import XLSX_MIMETYPE
from app.core.errors import abort_with_message
from app.extensions import db
from app.i18n import _, get_locale_code
from app.questionnaires.services import definition_of
from app.reports import raw

bp = Blueprint("exports", __name__, url_prefix="/exports")

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def _options(campaign) -> tuple[raw.RawOptions, str, str]:
    """(options, format, sheet) from the query string; 400 naming the bad parameter."""
    args = request.args
    fmt = args.get("format", "xlsx")
    if fmt not in raw.FORMATS:
        abort_with_message(400, _("Unknown format “%(value)s”: choose xlsx, csv or csv-semicolon.", value=fmt))
    sheet = args.get("sheet", "data")
    if sheet not in raw.SHEETS:
        abort_with_message(400, _("Unknown sheet “%(value)s”: choose data or codebook.", value=sheet))
    multi = args.get("multi", "columns")
    if multi not in raw.MULTI_LAYOUTS:
        abort_with_message(400, _("Unknown layout “%(value)s”: choose columns or joined.", value=multi))
    languages = definition_of(campaign.version).languages
    lang = args.get("lang") or (get_locale_code() if get_locale_code() in languages else languages[0])
    if lang not in languages:
        abort_with_message(400, _("The questionnaire is not available in “%(value)s”.", value=lang))
    codes = args.get("codes", "0").lower()
    if codes not in TRUE + FALSE:
        abort_with_message(400, _("Unknown value “%(value)s” for codes: choose 1 (codes) or 0 (labels).",
                                  value=args.get("codes")))
    return raw.RawOptions(codes=codes in TRUE, lang=lang, multi=multi), fmt, sheet


def _send(export: raw.RawExport, fmt: str, sheet: str):
    """Stream a CSV from a generator; write an XLSX to a temporary file (deleted when sent) and send it."""
    if fmt in raw.CSV_FORMATS:
        name = export.filename("csv", sheet)
        engine = db.engine

        def stream():
            # The request (and its session) ends before the body is sent: the answers are read with a session
            # of their own, closed when the last chunk has gone (or the download was cancelled).
            with Session(engine) as session:
                export.session = session
                yield from raw.iter_csv(export, sheet, semicolons=fmt == "csv-semicolon")

        return Response(stream(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={quote_header_value(name)}",
                                 "Cache-Control": "no-store"})
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    try:
        raw.write_xlsx(export, handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return send_file(handle, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=export.filename("xlsx"),
                     max_age=0)


@bp.route("/campaigns/<int:campaign_id>/raw")
@require_role("staff", "admin", "expert")
def campaign_raw(campaign_id: int):
    """A campaign's raw data: every response for staff, the responses of their countries for an expert."""
    campaign = get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    options, fmt, sheet = _options(campaign)
    try:
        export = raw.RawExport(campaign, options, actor=current_user)
    except raw.ExportError as exc:
        abort(404 if exc.not_found else 400)
    return _send(export, fmt, sheet)


@bp.route("/my-response")
@require_role("respondent")
def own_response():
    """A copy of the respondent's own answers (the response of their invitation's agency and campaign)."""
    invitation = g.get("invitation")
    if invitation is None:
        abort(404)
    options, fmt, sheet = _options(invitation.campaign)
    try:
        export = raw.RawExport(invitation.campaign, options, actor=current_user, invitation=invitation)
    except raw.ExportError as exc:
        abort(404 if exc.not_found else 400)
    return _send(export, fmt, sheet)
