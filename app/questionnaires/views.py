"""Staff pages: questionnaires and versions, a respondent's-eye preview, and version comparison."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from markupsafe import Markup

from app.auth.permissions import require_role
from app.i18n import _, force_locale, get_locale_code, interface_locale, local_today
from app.questionnaires import services
from app.questionnaires.diff import compare
from app.questionnaires.forms import ADAPTERS, Context, build_section_form, tr
from app.questionnaires.rendering import expression_trees, visible_sections

bp = Blueprint("questionnaires", __name__, url_prefix="/admin/questionnaires")


@bp.route("/")
@require_role("staff", "admin")
def index():
    """Every questionnaire with its versions."""
    return render_template("questionnaires/index.html", questionnaires=services.list_questionnaires(),
                           lang=get_locale_code())


def _version_or_404(slug: str, number: int):
    return services.get_version(slug, number) or abort(404)


@bp.route("/<slug>/v<int:number>")
@require_role("staff", "admin")
def version(slug: str, number: int):
    """One version: its areas, indicators and sections."""
    stored = _version_or_404(slug, number)
    definition = services.definition_of(stored)
    lang = request.args.get("lang") or _pick_lang(definition)
    return render_template("questionnaires/version.html", version=stored, definition=definition, lang=lang,
                           ctx=Context(definition, lang), question_count=sum(1 for _ in definition.questions()))


def _pick_lang(definition) -> str:
    current = get_locale_code()
    return current if current in definition.languages else definition.languages[0]


@bp.route("/<slug>/v<int:number>/preview")
@require_role("staff", "admin")
def preview(slug: str, number: int):
    """A section exactly as a respondent sees it (nothing is saved), in any language of the questionnaire."""
    stored = _version_or_404(slug, number)
    definition = services.definition_of(stored)
    lang = request.args.get("lang") if request.args.get("lang") in definition.languages else _pick_lang(definition)
    sections = definition.sections
    index = request.args.get("section", type=int, default=1)
    if not 1 <= index <= len(sections):
        abort(404)
    section = sections[index - 1]
    return _render_preview(stored, definition, section, index, lang)


def _render_preview(stored, definition, section, index: int, lang: str):
    """The section as the respondent sees it, buttons and messages in the questionnaire's language when the
    interface has it, inside a page (menu, title, banner) in the staff member's own language."""
    slug, number, sections = stored.questionnaire.slug, stored.number, definition.sections
    ctx = Context(definition, lang)
    with force_locale(interface_locale(lang)):
        form = build_section_form(definition, section, lang, values={}, meta={"csrf": False})
        body = Markup(render_template(  # noqa: S704 - a template of ours, autoescaped
            "questionnaires/_preview_body.html", definition=definition, section=section, index=index,
            sections=sections, form=form, ctx=ctx, adapters=ADAPTERS, lang=lang, expr=expression_trees(definition),
            visible=visible_sections(definition, {}, today=local_today()),
            url_for_section=lambda i: url_for(".preview", slug=slug, number=number, section=i, lang=lang)))
    return render_template("questionnaires/preview.html", version=stored, definition=definition, index=index,
                           lang=lang, ctx=ctx, body=body, section_title=ctx.t(section.title))


@bp.route("/<slug>/compare")
@require_role("staff", "admin")
def compare_versions(slug: str):
    """Questions, sections and indicators added, removed or changed between two versions."""
    questionnaire = services.get_questionnaire(slug) or abort(404)
    numbers = [v.number for v in questionnaire.versions]
    a = request.args.get("a", type=int, default=numbers[-2] if len(numbers) > 1 else numbers[0])
    b = request.args.get("b", type=int, default=numbers[-1])
    version_a, version_b = _version_or_404(slug, a), _version_or_404(slug, b)
    diff = compare(version_a.definition, version_b.definition)
    return render_template("questionnaires/compare.html", questionnaire=questionnaire, a=version_a, b=version_b,
                           diff=diff, numbers=numbers, tr=tr, lang=get_locale_code(), field_labels=_field_labels())


def _field_labels() -> dict[str, str]:
    """The questionnaire file's keys most often changed, in the interface language (the key itself is shown
    beside: it is what the file's author writes)."""
    return {"label": _("label"), "title": _("title"), "description": _("description"), "hint": _("hint"),
            "type": _("type of question"), "required": _("required"), "show_if": _("shown if"),
            "constraint": _("constraint"), "constraint_message": _("constraint message"),
            "choices": _("answer options"), "indicator": _("indicator"), "weight": _("weight"),
            "target": _("target level"), "aggregation": _("aggregation"), "scale": _("scale"),
            "thresholds": _("thresholds"), "min": _("minimum"), "max": _("maximum"), "unit": _("unit"),
            "max_length": _("maximum length"), "rows": _("rows"), "languages": _("languages"),
            "not_applicable": _("“not applicable” offered"), "dont_know": _("“don't know” offered"),
            "choices_order": _("order of the answer options"), "rows_order": _("order of the rows")}
