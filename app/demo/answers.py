"""Plausible answers to a questionnaire, for demo data.

Pure: no Flask, no database. `generate_answers` walks the questions in order and answers those visible
under the answers given so far, with values that pass the question type's `normalise` and the question's
`constraint`. Ratings lean towards the lower-middle levels of the scale, so that the demo shows gaps.
The same seed of `rng` always gives the same answers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from app.i18n import local_today
from app.questionnaires import expressions
from app.questionnaires.qtypes import REGISTRY, SPECIAL, AnswerError, is_special, yes_no_scores
from app.questionnaires.rendering import is_visible

#: Chance that a question which allows "not_applicable" / "dont_know" gets one of them.
SPECIAL_SHARE = 0.05
#: Chance that a matrix row (of a matrix allowing special answers) gets one.
ROW_SPECIAL_SHARE = 0.03
#: Candidates tried per question before it is left unanswered.
ATTEMPTS = 12


#: Where on the scale (0 = lowest, 1 = highest) the answers of the question being generated lean.
_CENTRE: ContextVar[float] = ContextVar("demo_answer_centre", default=0.4)


def generate_answers(definition, rng: random.Random, completeness: float = 1.0, today: date | None = None, *,
                     fixed: Mapping[str, Any] | None = None,
                     strengths: Mapping[str, float] | None = None) -> dict[str, object]:
    """Answers {question id: stored value} to `definition`, deterministic for a given seed of `rng`.

    Questions are walked in order; a question is answered only when its section's show_if and its own
    show_if hold under the answers so far, and then with probability `completeness` (1.0: every visible
    question, so every visible required question). Values are passed through the question type's
    `normalise` and must satisfy the question's `constraint` (a few candidates are tried; the question is
    skipped when none fits; special answers are not checked against the constraint). About 5% of the
    questions that allow "not_applicable" / "dont_know" get one of them. File questions and notes are
    never answered. Should a later answer change an earlier rule (a rule referring forward), the walk is
    repeated until nothing changes, so no hidden question keeps an answer.

    `fixed`: answers decided by the caller (for example the agency's profile), kept as they are and used
    by the rules; the caller makes sure they fit.

    `strengths`: {area id: where the answers of the area's questions lean, 0 = lowest level .. 1 = highest};
    areas not named lean to the lower middle (0.4). This is how a demo country is strong in one area and
    weak in another.
    """
    area_of = {indicator.id: area.id for area, indicator in definition.indicators()}
    strengths = dict(strengths or {})
    today = today or local_today()
    fixed = dict(fixed or {})
    answers: dict[str, object] = dict(fixed)
    planned: dict[str, bool] = {}
    failed: set[str] = set()
    questions = list(definition.questions())
    for _ in range(len(questions) + 1):
        changed = False
        for section, question in questions:
            if question.id in fixed or question.type in ("note", "file"):
                continue
            if not (is_visible(section.show_if, answers, today) and is_visible(question.show_if, answers, today)):
                if question.id in answers:
                    del answers[question.id]
                    changed = True
                continue
            if question.id in answers or question.id in failed:
                continue
            if question.id not in planned:
                planned[question.id] = rng.random() < completeness
            if not planned[question.id]:
                continue
            centre = strengths.get(area_of.get(question.indicator or "", ""), 0.4)
            token = _CENTRE.set(centre)
            try:
                value = _answer(definition, question, answers, rng, today)
            finally:
                _CENTRE.reset(token)
            if value is None:
                failed.add(question.id)
                continue
            answers[question.id] = value
            changed = True
        if not changed:
            break
    return answers


def _answer(definition, question, answers: Mapping[str, Any], rng: random.Random, today: date):
    """A normalised value that satisfies the constraint, or None when no candidate fits."""
    qtype = REGISTRY[question.type]
    specials = [name for name in SPECIAL if getattr(question, name)]
    constraint = _tree(question.constraint) if question.constraint else None
    for _attempt in range(ATTEMPTS):
        if specials and rng.random() < SPECIAL_SHARE:
            raw = rng.choice(specials)
        else:
            raw = _RAW[question.type](definition, question, answers, rng, today)
        if raw is None:
            continue
        try:
            value = qtype.normalise(question, raw, definition=definition, today=today)
        except AnswerError:
            continue
        if value is None:
            continue
        if constraint is not None and not is_special(value) and not expressions.truthy(
                expressions.evaluate(constraint, answers, current=value, today=today)):
            continue
        return value
    return None


@lru_cache(maxsize=512)
def _tree(text: str):
    """The parsed expression (cached)."""
    return expressions.parse(text)


# ---------------------------------------------------------------- levels and choices

def _weight(level: float, low: float, high: float) -> float:
    """Weight of a level: highest where the current question's area leans (by default 40% of the scale, so the
    lower-middle levels are the most frequent)."""
    share = (level - low) / (high - low) if high > low else 0.5
    return 1 / (1 + 4 * abs(share - _CENTRE.get()))


def _biased(rng: random.Random, items: list, levels: list[float], low: float, high: float):
    """One of `items`, weighted by the level each gives."""
    return rng.choices(items, weights=[_weight(level, low, high) for level in levels])[0]


def _scale_level(definition, rng: random.Random) -> int:
    """A level of the definition's scale, leaning towards the lower-middle."""
    levels = [level.level for level in definition.scale]
    return _biased(rng, levels, levels, definition.min_level, definition.max_level)


def _raw_scale(definition, question, answers, rng, today):
    return _scale_level(definition, rng)


def _raw_single_choice(definition, question, answers, rng, today):
    choices = question.choices
    if any(c.score is not None for c in choices):
        scored = [c for c in choices if c.score is not None]
        return _biased(rng, [c.value for c in scored], [c.score for c in scored], definition.min_level,
                       definition.max_level)
    return rng.choice([c.value for c in choices])


def _raw_yes_no(definition, question, answers, rng, today):
    scores = yes_no_scores(question, definition)
    values = ["yes", "partly", "no"] if question.partly else ["yes", "no"]
    return _biased(rng, values, [scores[v] for v in values], definition.min_level, definition.max_level)


def _raw_multiple_choice(definition, question, answers, rng, today):
    values = [c.value for c in question.choices]
    exclusive = [v for v in values if v == "none"]
    pool = [v for v in values if v not in exclusive]
    if exclusive and (not pool or rng.random() < 0.1):
        return exclusive[:1]
    scoring = [c.value for c in question.choices if c.score is not None and c.value in pool]
    if scoring:
        # The share of scoring choices selected gives the level: draw the level, then that many choices.
        span = definition.max_level - definition.min_level
        share = (_scale_level(definition, rng) - definition.min_level) / span if span else 0.5
        count = max(1, round(share * len(scoring)))
        picked = set(rng.sample(scoring, count))
        unscored = [v for v in pool if v not in scoring]
        if unscored and rng.random() < 0.3:
            picked.add(rng.choice(unscored))
    else:
        count = rng.choices(range(1, min(4, len(pool)) + 1), weights=[3, 4, 3, 1][:min(4, len(pool))])[0]
        picked = set(rng.sample(pool, count))
    return [v for v in pool if v in picked]


def _raw_matrix(definition, question, answers, rng, today):
    specials = [name for name in SPECIAL if getattr(question, name)]
    if question.choices:
        scored = [c for c in question.choices if c.score is not None]
        columns = [c.value for c in (scored or question.choices)]
        levels = [c.score for c in scored] if scored else None
    else:
        columns = [str(level.level) for level in definition.scale]
        levels = [level.level for level in definition.scale]
    value = {}
    for row in question.rows:
        if specials and rng.random() < ROW_SPECIAL_SHARE:
            value[row.id] = rng.choice(specials)
        elif levels is None:
            value[row.id] = rng.choice(columns)
        else:
            value[row.id] = _biased(rng, columns, levels, definition.min_level, definition.max_level)
    return value


# ---------------------------------------------------------------- numbers

def _raw_number(definition, question, answers, rng, today):
    low, high = _number_bounds(question, answers, today)
    step = 1 if question.integer else 0.1
    soft_high = _reference_bound(question, answers)
    if question.thresholds:
        segments = _threshold_segments(question, low, min(high, soft_high), step)
        if segments:
            seg_low, seg_high, _level = _biased(rng, segments, [s[2] for s in segments], definition.min_level,
                                                definition.max_level)
            return _pick(rng, seg_low, seg_high, question.integer)
    if math.isfinite(low) and math.isfinite(high):
        # Bounded (a percentage, or at most another answer): lean towards the lower third.
        return _pick_value(low + (high - low) * rng.betavariate(2, 5), low, high, question.integer)
    if math.isfinite(soft_high) and soft_high > max(low, 0):
        # At most another answer (e.g. the total staff): a small share of it.
        share = math.exp(rng.uniform(math.log(0.003), math.log(0.15)))
        return _pick_value(soft_high * share, max(low, 0), soft_high, question.integer)
    lo, hi = (150, 25000) if "total" in question.id else (0, 120)
    lo = max(lo, low) if math.isfinite(low) else lo
    value = math.exp(rng.uniform(math.log(lo + 1), math.log(max(hi, lo) + 1))) - 1
    return _pick_value(value, lo, min(high, max(hi, lo)), question.integer)


def _pick(rng: random.Random, low: float, high: float, integer: bool):
    """A number from [low, high] (whole for integer questions; whole or one decimal otherwise)."""
    if integer:
        return rng.randint(math.ceil(low), math.floor(high))
    return _pick_value(rng.uniform(low, high), low, high, integer)


def _pick_value(value: float, low: float, high: float, integer: bool):
    """`value` rounded (whole, or one decimal in narrow ranges) and kept within [low, high]."""
    if integer or high - low >= 10:
        value = float(round(value))
        if value < low:
            value = float(math.ceil(low))
        if value > high:
            value = float(math.floor(high))
    else:
        value = min(max(round(value, 1), low), high)
    return int(value) if integer else value


def _number_bounds(question, answers, today) -> tuple[float, float]:
    """[low, high] from the question's min/max and the `.` comparisons joined by `and` in its constraint."""
    step = 1 if question.integer else 0.1
    low = float(question.min) if question.min is not None else -math.inf
    high = float(question.max) if question.max is not None else math.inf
    if not question.constraint:
        return low, high
    flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
    for node in _conjuncts(_tree(question.constraint)):
        if not (isinstance(node, expressions.Binary) and node.op in flipped):
            continue
        if isinstance(node.left, expressions.Current) and not expressions.uses_current(node.right):
            op, other = node.op, node.right
        elif isinstance(node.right, expressions.Current) and not expressions.uses_current(node.left):
            op, other = flipped[node.op], node.left
        else:
            continue
        bound = _as_number(expressions.evaluate(other, answers, today=today))
        if bound is None:
            continue
        if op in (">", ">="):
            low = max(low, bound + (step if op == ">" else 0))
        else:
            high = min(high, bound - (step if op == "<" else 0))
    return low, high


def _conjuncts(node):
    """The parts of an `a and b and ...` expression."""
    if isinstance(node, expressions.Binary) and node.op == "and":
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


def _reference_bound(question, answers) -> float:
    """The smallest numeric answer the constraint refers to (a likely upper bound), or infinity."""
    if not question.constraint:
        return math.inf
    numbers = [answers.get(ref) for ref in expressions.references(_tree(question.constraint))]
    numbers = [n for n in numbers if isinstance(n, int | float) and not isinstance(n, bool)]
    return float(min(numbers)) if numbers else math.inf


def _threshold_segments(question, low: float, high: float, step: float) -> list[tuple[float, float, float]]:
    """(from, to, level) ranges of values giving each threshold level, cut to [low, high]."""
    thresholds = question.thresholds
    segments = []
    for i, threshold in enumerate(thresholds):
        start = threshold.at_least
        end = thresholds[i + 1].at_least - step if i + 1 < len(thresholds) else max(start * 2, start + 10)
        start, end = max(start, low), min(end, high)
        if question.integer:
            start, end = math.ceil(start), math.floor(end)
        if start <= end:
            segments.append((start, end, threshold.level))
    return segments


def _as_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


# ---------------------------------------------------------------- dates

def _raw_date(definition, question, answers, rng, today):
    def bound(name):
        value = getattr(question, name)
        if value is None:
            return None
        return today if value == "today" else date.fromisoformat(str(value))

    earliest, latest = bound("min"), bound("max")
    upper = latest or (today if not earliest or earliest <= today else earliest + timedelta(days=365))
    # Without a lower bound the date is recent (e.g. the date of the answer); with one, within 12 years.
    lower = max(earliest, upper - timedelta(days=365 * 12)) if earliest else upper - timedelta(days=180)
    if lower > upper:
        return None
    return (lower + timedelta(days=rng.randint(0, (upper - lower).days))).isoformat()


# ---------------------------------------------------------------- text

#: (keywords of the question id, {language: phrases}); the first match gives the pool, else _GENERAL.
_TEXT_POOLS: list[tuple[tuple[str, ...], dict[str, list[str]]]] = [
    (("email",), {
        "ru": ["focal.point@agency.example", "intl.cooperation@agency.example", "ct.unit+anketa@agency.example"],
        "en": ["focal.point@agency.example", "intl.cooperation@agency.example", "ct.unit+survey@agency.example"],
    }),
    (("phone",), {
        "ru": ["+7 7172 71 20 45", "+996 312 26 61 02", "+992 37 221 00 45", "+993 12 39 00 21",
               "+998 71 233 00 45"],
        "en": ["+7 7172 71 20 45", "+996 312 26 61 02", "+992 37 221 00 45", "+993 12 39 00 21",
               "+998 71 233 00 45"],
    }),
    (("contact_name", "person"), {
        "ru": ["Нурланов Азамат Ерланович", "Асанова Гульнара Токтогуловна", "Рахимов Фаридун Саидович",
               "Аннаев Мердан Ходжаевич", "Каримова Дилноза Азизовна"],
        "en": ["Azamat Nurlanov", "Gulnara Asanova", "Faridun Rakhimov", "Merdan Annayev", "Dilnoza Karimova"],
    }),
    (("position",), {
        "ru": ["Начальник отдела международного сотрудничества",
               "Главный специалист управления по противодействию терроризму и экстремизму",
               "Старший инспектор по особым поручениям аналитического управления",
               "Заместитель начальника следственного департамента"],
        "en": ["Head of the International Cooperation Division",
               "Chief Specialist, Counter-Terrorism and Counter-Extremism Directorate",
               "Senior Inspector, Analysis Directorate", "Deputy Head of the Investigation Department"],
    }),
    (("agency_name",), {
        "ru": ["Министерство внутренних дел", "Генеральная прокуратура",
               "Комитет национальной безопасности", "Пограничная служба",
               "Государственная служба финансовой разведки"],
        "en": ["Ministry of Internal Affairs", "Prosecutor General's Office", "National Security Committee",
               "Border Service", "State Financial Intelligence Service"],
    }),
    (("unit_name",), {
        "ru": ["Управление по противодействию терроризму и экстремизму Департамента криминальной полиции",
               "Антитеррористический центр, подчиняется непосредственно руководителю ведомства",
               "Отдел по борьбе с терроризмом в составе управления по противодействию экстремизму"],
        "en": ["Counter-Terrorism and Counter-Extremism Directorate of the Criminal Police Department",
               "Anti-Terrorism Centre, reporting directly to the head of the agency",
               "Counter-terrorism division within the counter-extremism directorate"],
    }),
    (("type_other",), {
        "ru": ["Государственный комитет по делам религий", "Национальный центр по правам человека",
               "Агентство по информации и массовым коммуникациям"],
        "en": ["State Committee for Religious Affairs", "National Human Rights Centre",
               "Agency for Information and Mass Communications"],
    }),
    (("_other",), {
        "ru": ["Стажировки сотрудников в профильных подразделениях государств — членов ЕС",
               "Совместная разработка методических рекомендаций",
               "Перевод учебных материалов на государственный язык"],
        "en": ["Placements of officers in specialised units of EU member states",
               "Joint drafting of practical guidelines", "Translation of training materials into the national "
                                                         "language"],
    }),
    (("mandate",), {
        "ru": ["Ведомство осуществляет выявление, предупреждение и пресечение преступлений террористического "
               "характера, а также досудебное расследование по делам этой категории в пределах своей компетенции.",
               "Полномочия ведомства определены законом о противодействии терроризму и положением о ведомстве, "
               "утверждённым указом Президента.",
               "Ведомство координирует деятельность государственных органов по противодействию финансированию "
               "терроризма и обеспечивает международное сотрудничество в этой сфере."],
        "en": ["The agency detects, prevents and suppresses terrorist offences and investigates such cases "
               "within its competence.",
               "The agency's powers are set out in the counter-terrorism law and in its statute, approved by "
               "presidential decree.",
               "The agency coordinates the work of state bodies against the financing of terrorism and handles "
               "international cooperation in this field."],
    }),
    (("departments",), {
        "ru": ["Департамент по противодействию экстремизму и терроризму, Следственный департамент, Управление "
               "международного сотрудничества",
               "Аналитическое управление, Правовой департамент, Отдел подготовки кадров",
               "Оперативное управление, Экспертно-криминалистический центр, Секретариат руководства"],
        "en": ["Counter-Extremism and Counter-Terrorism Department, Investigation Department, International "
               "Cooperation Directorate",
               "Analysis Directorate, Legal Department, Training Division",
               "Operations Directorate, Forensic Centre, Secretariat of the leadership"],
    }),
    (("legal",), {
        "ru": ["Закон о противодействии терроризму, Уголовный и Уголовно-процессуальный кодексы, Закон об "
               "оперативно-розыскной деятельности, а также ведомственные приказы и инструкции.",
               "Действующее законодательство в целом соответствует международным стандартам, однако требует "
               "уточнения норм об уголовной ответственности иностранных террористических боевиков.",
               "Ведомственные инструкции по работе с электронными доказательствами находятся в стадии "
               "разработки.",
               "Порядок замораживания активов лиц, включённых в санкционные перечни Совета Безопасности ООН, "
               "требует совершенствования в части сроков исполнения."],
        "en": ["The counter-terrorism law, the criminal code and the code of criminal procedure, the law on "
               "operational investigative activities, and internal orders and instructions.",
               "The legislation broadly meets international standards, but the offences covering foreign "
               "terrorist fighters need to be made more precise.",
               "Internal instructions on handling electronic evidence are being drafted.",
               "The procedure for freezing the assets of persons on UN Security Council sanctions lists needs to "
               "work faster."],
    }),
    (("donor", "international"), {
        "ru": ["УНП ООН: тренинги по противодействию финансированию терроризма (2022–2023 гг.); ОБСЕ: семинар "
               "по работе с иностранными террористическими боевиками (2023 г.).",
               "Контртеррористическое управление ООН: курс по расследованию преступлений с использованием "
               "информационных технологий (2023 г., 15 участников).",
               "Программа ЕС BOMCA: обучение сотрудников пунктов пропуска выявлению поддельных документов.",
               "Двусторонние партнёры: стажировка двух сотрудников в антитеррористическом подразделении "
               "государства — члена ЕС (2022 г.)."],
        "en": ["UNODC: trainings on countering the financing of terrorism (2022-2023); OSCE: a workshop on "
               "foreign terrorist fighters (2023).",
               "UN Office of Counter-Terrorism: a course on investigating crimes involving information "
               "technology (2023, 15 participants).",
               "EU BOMCA programme: training of border crossing point staff in detecting forged documents.",
               "Bilateral partners: a placement of two officers in a counter-terrorism unit of an EU member "
               "state (2022)."],
    }),
    (("training",), {
        "ru": ["Требуется повышение квалификации следователей и оперативных сотрудников по расследованию "
               "преступлений террористического характера с использованием цифровых доказательств.",
               "Ведомство заинтересовано в подготовке собственных преподавателей по программе «обучение "
               "инструкторов», чтобы распространять полученные знания в регионах.",
               "Сотрудники территориальных подразделений не проходили специализированного обучения по "
               "противодействию финансированию терроризма за последние три года."],
        "en": ["Investigators and operational officers need further training in investigating terrorist "
               "offences with digital evidence.",
               "The agency would like to train its own instructors (training of trainers) to pass the knowledge "
               "on to the regions.",
               "Staff of the regional offices have had no specialised training on countering the financing of "
               "terrorism in the last three years."],
    }),
    (("need",), {
        "ru": ["Подготовка специалистов по извлечению данных из мобильных устройств",
               "Обучение методам параллельных финансовых расследований",
               "Создание защищённого канала обмена информацией с партнёрами из ЕС",
               "Повышение квалификации аналитиков в области стратегического анализа угроз",
               "Ознакомительный визит в антитеррористическое подразделение государства — члена ЕС",
               "Совершенствование ведомственных инструкций по работе с цифровыми доказательствами"],
        "en": ["Training specialists in mobile device data extraction",
               "Training in parallel financial investigations",
               "A secure channel for exchanging information with EU partners",
               "Training analysts in strategic threat analysis",
               "A study visit to a counter-terrorism unit of an EU member state",
               "Better internal instructions on digital evidence"],
    }),
    (("equipment",), {
        "ru": ["Имеющееся оборудование для извлечения данных из мобильных устройств устарело и не поддерживает "
               "современные модели смартфонов.",
               "Территориальные подразделения не имеют защищённых каналов связи для оперативного обмена "
               "информацией с центральным аппаратом.",
               "Необходимы лицензии на программное обеспечение для мониторинга открытых источников и анализа "
               "больших объёмов данных."],
        "en": ["The mobile device extraction equipment is outdated and does not support recent smartphones.",
               "Regional offices have no secure communications for urgent exchanges with headquarters.",
               "Licences are needed for open-source monitoring and large-scale data analysis software."],
    }),
    (("coop", "regional", "proposal"), {
        "ru": ["Целесообразно создать региональную платформу для оперативного обмена информацией о лицах, "
               "причастных к террористической деятельности.",
               "Ведомство заинтересовано в заключении соглашения о стратегическом сотрудничестве с Европолом и "
               "назначении контактного лица.",
               "Предлагаем проводить ежегодные региональные совещания руководителей антитеррористических "
               "подразделений государств Центральной Азии.",
               "Запросы о взаимной правовой помощи исполняются длительное время; необходимы прямые контакты "
               "между центральными органами.",
               "Полезными были бы совместные учения с участием правоохранительных органов соседних государств."],
        "en": ["A regional platform for the rapid exchange of information on persons involved in terrorism "
               "would be useful.",
               "The agency would like a strategic cooperation agreement with Europol and a named contact point.",
               "We propose yearly regional meetings of the heads of counter-terrorism units of the Central "
               "Asian countries.",
               "Mutual legal assistance requests take a long time; direct contacts between the central "
               "authorities are needed.",
               "Joint exercises with the law-enforcement bodies of neighbouring countries would be useful."],
    }),
]
_GENERAL: dict[str, list[str]] = {
    lang: [phrase for keywords, pool in _TEXT_POOLS
           if keywords[0] in ("legal", "training", "equipment", "coop") for phrase in pool[lang]]
    for lang in ("ru", "en")
}


def _phrases(definition, question) -> list[str]:
    """The phrase pool for a question, in the questionnaire's default language (English if there is none)."""
    lang = definition.default_language if definition.default_language in ("ru", "en") else "en"
    for keywords, pool in _TEXT_POOLS:
        if any(keyword in question.id for keyword in keywords):
            return pool[lang]
    return _GENERAL[lang]


def _fitting(definition, question) -> list[str]:
    """The phrases of the pool that fit the question's length limit (else the first one, cut to it)."""
    limit = question.max_length or REGISTRY[question.type].default_max
    pool = _phrases(definition, question)
    return [p for p in pool if len(p) <= limit] or [pool[0][:limit].rstrip()]


def _raw_text(definition, question, answers, rng, today):
    return rng.choice(_fitting(definition, question))


def _raw_long_text(definition, question, answers, rng, today):
    pool = _fitting(definition, question)
    if not pool[0].endswith("."):  # alternatives (names, lists): one of them; sentences: one to three
        return rng.choice(pool)
    count = min(len(pool), rng.choice((1, 1, 2, 2, 3)))
    return " ".join(rng.sample(pool, count))


def _raw_nothing(definition, question, answers, rng, today):
    return None


_RAW = {
    "single_choice": _raw_single_choice, "multiple_choice": _raw_multiple_choice, "yes_no": _raw_yes_no,
    "scale": _raw_scale, "number": _raw_number, "text": _raw_text, "long_text": _raw_long_text,
    "date": _raw_date, "matrix": _raw_matrix, "file": _raw_nothing, "note": _raw_nothing,
}
