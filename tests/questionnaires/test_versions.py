"""Stored versions: loading, immutability, listing, the CLI, and the staff pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, sign_in

SMALL = ROOT / "tests" / "data" / "small_questionnaire.yaml"
DEMO = ROOT / "questionnaires" / "ct-capacity-needs-assessment.yaml"


def _versions(db_session):
    from app.questionnaires.models import QuestionnaireVersion

    return db_session.scalar(select(func.count()).select_from(QuestionnaireVersion))


def test_loading_unchanged_file_twice_makes_one_version(app_ctx, db_session, tmp_path):
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "q.yaml"
    shutil.copy(SMALL, target)
    first = runner.invoke(args=["questionnaires", "load", str(target)])
    assert first.exit_code == 0, first.output
    assert "created (version 1)" in first.output
    second = runner.invoke(args=["questionnaires", "load", str(target)])
    assert "unchanged (version 1)" in second.output
    assert _versions(db_session) == 1


def test_changed_file_creates_version_2_and_version_1_stays(app_ctx, db_session, tmp_path):
    from app.questionnaires import services

    runner = app_ctx.test_cli_runner()
    target = tmp_path / "q.yaml"
    shutil.copy(SMALL, target)
    runner.invoke(args=["questionnaires", "load", str(target)])
    v1 = services.get_version(services.list_questionnaires()[0].slug, 1)
    v1_definition = dict(v1.definition)
    text = target.read_text(encoding="utf-8")
    changed = _change_first_label(text)
    target.write_text(changed, encoding="utf-8")
    result = runner.invoke(args=["questionnaires", "load", str(target)])
    assert result.exit_code == 0, result.output
    assert "version 2 stored" in result.output
    db_session.expire_all()
    slug = services.list_questionnaires()[0].slug
    assert services.get_version(slug, 1).definition == v1_definition
    assert services.get_version(slug, 2).definition != v1_definition
    assert services.get_version(slug).number == 2
    listing = runner.invoke(args=["questionnaires", "list"])
    assert f"{slug}\tv1" in listing.output and f"{slug}\tv2" in listing.output


def _change_first_label(text: str) -> str:
    from app.questionnaires.loader import load_text

    definition = load_text(text, "q.yaml").definition
    first = next(iter(definition.questions()))[1]
    label = first.label if isinstance(first.label, str) else next(iter(dict(first.label).values()))
    assert label in text
    return text.replace(label, label + " (revised)", 1)


def test_versions_cannot_be_altered_by_a_failed_load(app_ctx, db_session, tmp_path):
    runner = app_ctx.test_cli_runner()
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    shutil.copy(SMALL, good)
    bad.write_text("schema_version: 1\nid: broken\ntitle: [unclosed\n", encoding="utf-8")
    result = runner.invoke(args=["questionnaires", "load", str(good), str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml:3" in result.output and "nothing loaded" in result.output
    assert _versions(db_session) == 0


def test_two_files_with_the_same_id_are_refused_and_nothing_is_loaded(app_ctx, db_session, tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    shutil.copy(SMALL, first)
    second.write_text(SMALL.read_text(encoding="utf-8").replace("Small example", "Small example (copy)"),
                      encoding="utf-8")
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "load", str(first), str(second)])
    assert result.exit_code == 1
    line = SMALL.read_text(encoding="utf-8").splitlines().index("id: small-example") + 1
    assert f"{second}:{line}: id: the id 'small-example' is already used by {first}" in result.output
    assert _versions(db_session) == 0


def test_import_xlsform_prints_notes_and_never_overwrites_silently(app_ctx, tmp_path):
    from app.questionnaires.xlsform import export_xlsform_bytes

    source = tmp_path / "form.xlsx"
    source.write_bytes(export_xlsform_bytes(_definition(SMALL)))
    target = tmp_path / "out.yaml"
    target.write_text("staff's own file\n", encoding="utf-8")
    runner = app_ctx.test_cli_runner()
    refused = runner.invoke(args=["questionnaires", "import-xlsform", str(source), "-o", str(target)])
    assert refused.exit_code != 0 and "exists" in refused.output and "--force" in refused.output
    assert target.read_text(encoding="utf-8") == "staff's own file\n"
    forced = runner.invoke(args=["questionnaires", "import-xlsform", str(source), "-o", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert target.read_text(encoding="utf-8").startswith("schema_version: 1")
    elsewhere = tmp_path / "new folder" / "out.yaml"  # -o creates the folder
    assert runner.invoke(args=["questionnaires", "import-xlsform", str(source), "-o", str(elsewhere)]).exit_code == 0
    assert elsewhere.read_text(encoding="utf-8").startswith("schema_version: 1")


def test_import_xlsform_prints_the_notes_of_the_import(app_ctx, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    survey.append(["text", "q1", "Question one"])
    settings = workbook.create_sheet("stettings")
    settings.append(["form_id", "form_title"])
    settings.append(["noted", "Noted form"])
    source = tmp_path / "noted.xlsx"
    workbook.save(source)
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "import-xlsform", str(source), "--check"])
    assert result.exit_code == 0, result.output
    assert f"{source}: note: stettings" in result.output and "read as the settings sheet" in result.output


def _definition(path: Path):
    from app.questionnaires.loader import load_file

    return load_file(path).definition


def test_validate_cli_exit_codes(app_ctx, tmp_path):
    runner = app_ctx.test_cli_runner()
    ok = runner.invoke(args=["questionnaires", "validate", str(SMALL)])
    assert ok.exit_code == 0, ok.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(SMALL.read_text(encoding="utf-8").replace("schema_version: 1", "schema_version: 1\n"
                                                                 "unknown_key: 3", 1), encoding="utf-8")
    result = runner.invoke(args=["questionnaires", "validate", str(broken)])
    assert result.exit_code == 1
    line = broken.read_text(encoding="utf-8").splitlines().index("unknown_key: 3") + 1
    assert f"{broken}:{line}: unknown_key: unknown key 'unknown_key'" in result.output


def test_validate_and_load_read_a_folder_as_people_name_their_files(app_ctx, tmp_path):
    """A file written FORM.YAML is a definition; a file named twice (or also through its folder) is read once,
    not reported as clashing with itself; a folder with no definition in it is an error, not "0 files valid"."""
    runner = app_ctx.test_cli_runner()
    folder = tmp_path / "forms"
    folder.mkdir()
    upper = folder / "FORM.YAML"
    upper.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "notes.txt").write_text("not a definition", encoding="utf-8")
    result = runner.invoke(args=["questionnaires", "validate", str(folder), str(upper), str(upper)])
    assert result.exit_code == 0, result.output
    assert "1 file(s) valid" in result.output
    loaded = runner.invoke(args=["questionnaires", "load", str(folder), str(upper)])
    assert loaded.exit_code == 0, loaded.output
    assert "already used" not in loaded.output and "small-example" in loaded.output

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a definition", encoding="utf-8")
    for command in ("validate", "load"):
        result = runner.invoke(args=["questionnaires", command, str(empty)])
        assert result.exit_code == 1, result.output
        assert f"{empty}: (folder): no definition file (.yaml or .yml) in this folder" in result.output


def test_validate_says_two_files_share_an_id_as_load_does(app_ctx, tmp_path):
    """validate said "2 file(s) valid" for two files of one id, which load then refused."""
    runner = app_ctx.test_cli_runner()
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    for command in ("validate", "load"):
        result = runner.invoke(args=["questionnaires", command, str(tmp_path)])
        assert result.exit_code == 1, (command, result.output)
        assert "b.yaml:" in result.output and "the id 'small-example' is already used by " in result.output
        assert "file(s) valid" not in result.output


@pytest.mark.skipif(not DEMO.exists(), reason="demo questionnaire not present")
def test_project_questionnaires_validate(app_ctx):
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "validate", str(ROOT / "questionnaires")])
    assert result.exit_code == 0, result.output


def _load(app_ctx, path: Path = SMALL):
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "load", str(path)])
    assert result.exit_code == 0, result.output
    from app.questionnaires import services

    return services.list_questionnaires()[0]


def test_staff_pages_list_show_and_compare(client, app_ctx, make_user, tmp_path):
    target = tmp_path / "q.yaml"
    shutil.copy(SMALL, target)
    questionnaire = _load(app_ctx, target)
    target.write_text(_change_first_label(target.read_text(encoding="utf-8")), encoding="utf-8")
    _load(app_ctx, target)
    sign_in(client, make_user("staff").email)
    index = client.get("/admin/questionnaires/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert questionnaire.slug in index and "v1" in index and "v2" in index
    detail = client.get(f"/admin/questionnaires/{questionnaire.slug}/v1")
    assert detail.status_code == 200
    diff = client.get(f"/admin/questionnaires/{questionnaire.slug}/compare?a=1&b=2",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "(revised)" in diff and "label" in diff
    same = client.get(f"/admin/questionnaires/{questionnaire.slug}/compare?a=1&b=1",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "identical" in same


def test_compare_names_the_fields_in_the_readers_language_and_writes_numbers_as_numbers(client, app_ctx, make_user,
                                                                                         tmp_path):
    target = tmp_path / "q.yaml"
    shutil.copy(SMALL, target)
    questionnaire = _load(app_ctx, target)
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("target: 3, weight: 2}", "target: 4, weight: 2.5}", 1), encoding="utf-8")
    _load(app_ctx, target)
    sign_in(client, make_user("staff").email)
    url = f"/admin/questionnaires/{questionnaire.slug}/compare?a=1&b=2"
    ru = client.get(url, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    rows = re.findall(r"<td>([^<]*)\(<code>(\w+)</code>\)</td><td>([^<]*)</td><td>([^<]*)</td>", ru)
    assert ("целевой уровень ", "target", "3", "4") in rows and ("вес ", "weight", "2", "2,5") in rows
    en = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "target level (<code>target</code>)</td><td>3</td><td>4</td>" in en and "3.0" not in en


def test_compare_lists_each_answer_option_and_row_that_changed(client, app_ctx, make_user, tmp_path):
    """A choice added, one removed, one rescored and two swapped are each a line of their own (with the order
    when it moved), as is a renamed matrix row and a relabelled scale level, instead of two whole lists."""
    target = tmp_path / "q.yaml"
    shutil.copy(SMALL, target)
    questionnaire = _load(app_ctx, target)
    text = target.read_text(encoding="utf-8")
    pad = " " * 10
    financing = pad + ("- {value: financing, label: {en: Financing of terrorism, ru: Финансирование терроризма}, "
                       "score: 1}\n")
    digital = pad + "- {value: digital, label: {en: Digital evidence, ru: Цифровые доказательства}, score: 1}\n"
    rights = pad + "- {value: rights, label: {en: Human rights, ru: Права человека}, score: 1}\n"
    border = pad + "- {value: border, label: {en: Border control, ru: Пограничный контроль}, score: 1}\n"
    assert financing + digital + rights in text
    text = text.replace(financing + digital + rights, digital.replace("score: 1", "score: 2") + financing + border)
    text = text.replace("{id: forensics, label: {en: Digital forensics,", "{id: forensics, label: {en: Forensics,")
    text = text.replace("{level: 4, label: {en: Fully in place,", "{level: 4, label: {en: Fully implemented,")
    target.write_text(text, encoding="utf-8")
    _load(app_ctx, target)
    sign_in(client, make_user("staff").email)
    page = client.get(f"/admin/questionnaires/{questionnaire.slug}/compare?a=1&b=2",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    rows = [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r'<tr class="diff-member">(.*?)</tr>', page, re.S)]
    by_key = {row.split(":", 2)[1].split()[0]: row for row in rows}
    assert set(by_key) == {"digital", "rights", "border", "forensics", "4"}, rows
    assert "score : 1" in by_key["digital"] and "score : 2" in by_key["digital"]
    assert by_key["rights"].startswith("answer options ( choices ): rights — removed")
    assert by_key["border"].startswith("answer options ( choices ): border — added — label")
    assert "Digital forensics" in by_key["forensics"] and "Forensics" in by_key["forensics"]
    assert "Fully in place" in by_key["4"] and "Fully implemented" in by_key["4"]
    assert "[financing, digital, rights, other]</td><td>[digital, financing, border, other]" in page
    assert "order of the answer options (<code>choices_order</code>)" in page
    assert "Human rights" not in by_key["digital"]  # the other options are not repeated


def test_preview_renders_every_section_in_every_language(client, app_ctx, make_user):
    from app.questionnaires import services

    questionnaire = _load(app_ctx)
    definition = services.definition_of(questionnaire.latest)
    sign_in(client, make_user("staff").email)
    for lang in definition.languages:
        for index, section in enumerate(definition.sections, start=1):
            page = client.get(f"/admin/questionnaires/{questionnaire.slug}/v1/preview?section={index}&lang={lang}")
            assert page.status_code == 200
            html = page.get_data(as_text=True)
            for question in section.questions:
                assert f'id="question-{question.id}"' in html
    assert client.get(f"/admin/questionnaires/{questionnaire.slug}/v1/preview?section=99").status_code == 404


def test_the_preview_in_another_language_keeps_the_staff_members_own(client, app_ctx, make_user):
    """Previewing the English questionnaire from a Russian interface: the respondent's part (labels, buttons,
    "Section 1 of n") is English, as a respondent answering in English sees it; the menu, the page title and
    the preview banner stay Russian."""
    import re

    questionnaire = _load(app_ctx)
    sign_in(client, make_user("staff").email)
    url = f"/admin/questionnaires/{questionnaire.slug}/v1/preview?section=1&lang="
    html = client.get(url + "en", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert re.search(r'<html lang="ru"', html) and "<title>Предпросмотр: " in html
    assert "так её видит респондент" in html and "Анкеты" in html  # the banner and the menu
    body = html[html.index('<div class="form-layout" lang="en">'):]
    assert "Section 1 of " in body and "Раздел 1 из" not in body
    russian = client.get(url + "ru", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Раздел 1 из" in russian[russian.index('<div class="form-layout" lang="ru">'):]
    english = client.get(url + "ru", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'<html lang="en"', english) and "what a respondent sees" in english


@pytest.mark.parametrize("role", ["expert", "respondent"])
def test_questionnaire_pages_are_staff_only(client, app_ctx, make_user, role):
    questionnaire = _load(app_ctx)
    sign_in(client, make_user(role).email)
    for path in ("/admin/questionnaires/", f"/admin/questionnaires/{questionnaire.slug}/v1",
                 f"/admin/questionnaires/{questionnaire.slug}/v1/preview",
                 f"/admin/questionnaires/{questionnaire.slug}/compare"):
        assert client.get(path).status_code == 403, path


def test_export_xlsform_writes_the_stored_version_into_a_new_folder(app_ctx, tmp_path, make_version):
    import openpyxl

    version = make_version()
    slug = version.questionnaire.slug
    target = tmp_path / "exports" / "2026" / "form.xlsx"  # -o creates the folders
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "export-xlsform", slug, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"written {target}" in result.output
    survey = openpyxl.load_workbook(target)["survey"]
    column = [cell.value for cell in survey[1]].index("name")
    names = [row[column] for row in survey.iter_rows(min_row=2, values_only=True)]
    first_question = version.definition["sections"][0]["questions"][0]["id"]
    assert first_question in names


def test_export_xlsform_names_a_missing_version_and_refuses_a_name_that_is_no_workbook(app_ctx, tmp_path,
                                                                                       make_version):
    slug = make_version().questionnaire.slug
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["questionnaires", "export-xlsform", slug, "--version", "0"])
    assert result.exit_code == 1 and f"no questionnaire '{slug}' version 0" in result.output  # said "no questionnaire"
    result = runner.invoke(args=["questionnaires", "export-xlsform", slug, "-o", str(tmp_path / "form.csv")])
    assert result.exit_code == 2 and "form.csv: the file written is XLSX, not CSV; name it form.xlsx" in result.output
    assert not (tmp_path / "form.csv").exists()
