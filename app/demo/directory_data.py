"""The demo partner directory: agencies of the five Central Asian countries and one regional body.

Pure data, no database: the demo seeder turns it into countries, agencies and contacts. The agencies are
the kinds of bodies that answer a counter-terrorism needs assessment; their names follow the official
English and Russian styles (and the national language where the form is certain). The contact persons
are invented: every e-mail address is on a reserved example domain (the `.example` top-level domain or
example.org), and phone numbers only follow each country's format.

Each agency is a dict:
    country        ISO 3166-1 alpha-2 code, or None for a regional body
    acronym        short Latin name, unique within its country
    kind           one of app.directory.models.AGENCY_TYPES
    names          {"en": ..., "ru": ..., national language code: ...}
    contacts       list of {name, position, email, phone, locale, is_focal_point}; exactly one focal point

Some contacts show that unusual addresses work: a plus sign ("a.seitkazina+leica@...") and a Cyrillic
local part ("ерлан.сапаров@example.org").
"""

from __future__ import annotations


def _contact(name: str, position: str, email: str, phone: str, locale: str = "ru", focal: bool = False) -> dict:
    """One contact person as a dict."""
    return {"name": name, "position": position, "email": email, "phone": phone, "locale": locale,
            "is_focal_point": focal}


_KZ = [
    {
        "country": "KZ", "acronym": "MVD", "kind": "interior",
        "names": {"en": "Ministry of Internal Affairs of the Republic of Kazakhstan",
                  "ru": "Министерство внутренних дел Республики Казахстан",
                  "kk": "Қазақстан Республикасының Ішкі істер министрлігі"},
        "contacts": [
            _contact("Нурланов Азамат Ерланович",
                     "Начальник управления по противодействию экстремизму и терроризму Департамента "
                     "криминальной полиции",
                     "a.nurlanov@mvd.kz.example", "+7 7172 71 20 45", focal=True),
            _contact("Сейтказина Айгерим Болатовна", "Главный эксперт отдела международного сотрудничества",
                     "a.seitkazina+leica@mvd.kz.example", "+7 701 555 23 18"),
        ],
    },
    {
        "country": "KZ", "acronym": "GP", "kind": "prosecutor",
        "names": {"en": "Prosecutor General's Office of the Republic of Kazakhstan",
                  "ru": "Генеральная прокуратура Республики Казахстан",
                  "kk": "Қазақстан Республикасының Бас прокуратурасы"},
        "contacts": [
            _contact("Жумабеков Данияр Муратович",
                     "Прокурор службы по надзору за законностью в сфере противодействия терроризму и экстремизму",
                     "d.zhumabekov@prokuror.kz.example", "+7 7172 71 05 32", focal=True),
        ],
    },
    {
        "country": "KZ", "acronym": "AFM", "kind": "fiu",
        "names": {"en": "Financial Monitoring Agency of the Republic of Kazakhstan",
                  "ru": "Агентство Республики Казахстан по финансовому мониторингу",
                  "kk": "Қазақстан Республикасының Қаржылық мониторинг агенттігі"},
        "contacts": [
            _contact("Ахметова Динара Кайратовна", "Директор департамента по противодействию финансированию "
                     "терроризма", "d.akhmetova@afm.kz.example", "+7 7172 70 98 10", focal=True),
            _contact("Aliya Dzhaksybekova", "Head of the International Cooperation Division",
                     "a.dzhaksybekova@afm.kz.example", "+7 7172 70 98 11", locale="en"),
        ],
    },
    {
        "country": "KZ", "acronym": "KNB", "kind": "security",
        "names": {"en": "National Security Committee of the Republic of Kazakhstan",
                  "ru": "Комитет национальной безопасности Республики Казахстан",
                  "kk": "Қазақстан Республикасының Ұлттық қауіпсіздік комитеті"},
        "contacts": [
            _contact("Сапаров Ерлан Кенжебекович", "Заместитель начальника Антитеррористического центра",
                     "ерлан.сапаров@example.org", "+7 7172 76 00 14", focal=True),
        ],
    },
    {
        "country": "KZ", "acronym": "PS KNB", "kind": "border",
        "names": {"en": "Border Service of the National Security Committee of the Republic of Kazakhstan",
                  "ru": "Пограничная служба Комитета национальной безопасности Республики Казахстан",
                  "kk": "Қазақстан Республикасы Ұлттық қауіпсіздік комитетінің Шекара қызметі"},
        "contacts": [
            _contact("Тулегенов Бауыржан Асхатович", "Начальник отдела организации пограничного контроля",
                     "b.tulegenov@ps.knb.kz.example", "+7 7172 76 31 02", focal=True),
            _contact("Омарова Сауле Жанатовна", "Старший офицер отдела международного сотрудничества",
                     "s.omarova@ps.knb.kz.example", "+7 777 310 42 65"),
        ],
    },
    {
        "country": "KZ", "acronym": "MChS", "kind": "emergency",
        "names": {"en": "Ministry of Emergency Situations of the Republic of Kazakhstan",
                  "ru": "Министерство по чрезвычайным ситуациям Республики Казахстан",
                  "kk": "Қазақстан Республикасының Төтенше жағдайлар министрлігі"},
        "contacts": [
            _contact("Исмаилов Тимур Нурланович", "Начальник отдела гражданской защиты и антикризисного управления",
                     "t.ismailov@emer.kz.example", "+7 7172 60 44 17", focal=True),
        ],
    },
]

_KG = [
    {
        "country": "KG", "acronym": "MVD", "kind": "interior",
        "names": {"en": "Ministry of Internal Affairs of the Kyrgyz Republic",
                  "ru": "Министерство внутренних дел Кыргызской Республики",
                  "ky": "Кыргыз Республикасынын Ички иштер министрлиги"},
        "contacts": [
            _contact("Абдыкадыров Нурбек Жаныбекович", "Начальник службы по борьбе с экстремизмом и незаконной "
                     "миграцией", "n.abdykadyrov@mvd.kg.example", "+996 312 26 61 02", focal=True),
            _contact("Асанова Гульнара Токтогуловна", "Главный инспектор отдела международного сотрудничества",
                     "g.asanova@mvd.kg.example", "+996 555 41 27 90"),
        ],
    },
    {
        "country": "KG", "acronym": "GP", "kind": "prosecutor",
        "names": {"en": "Prosecutor General's Office of the Kyrgyz Republic",
                  "ru": "Генеральная прокуратура Кыргызской Республики",
                  "ky": "Кыргыз Республикасынын Башкы прокуратурасы"},
        "contacts": [
            _contact("Токтосунов Алмаз Бакытбекович", "Прокурор управления по надзору за исполнением законов "
                     "органами национальной безопасности", "a.toktosunov@prokuratura.kg.example",
                     "+996 312 54 37 16", focal=True),
        ],
    },
    {
        "country": "KG", "acronym": "GSFR", "kind": "fiu",
        "names": {"en": "State Financial Intelligence Service of the Kyrgyz Republic",
                  "ru": "Государственная служба финансовой разведки Кыргызской Республики"},
        "contacts": [
            _contact("Бекбоева Айнура Маратовна", "Начальник управления анализа и финансовых расследований",
                     "a.bekboeva@fiu.kg.example", "+996 312 62 18 40", focal=True),
            _contact("Kanat Osmonov", "Senior Specialist, International Cooperation Unit",
                     "k.osmonov@fiu.kg.example", "+996 700 12 48 63", locale="en"),
        ],
    },
    {
        "country": "KG", "acronym": "GKNB", "kind": "security",
        "names": {"en": "State Committee for National Security of the Kyrgyz Republic",
                  "ru": "Государственный комитет национальной безопасности Кыргызской Республики",
                  "ky": "Кыргыз Республикасынын Улуттук коопсуздук мамлекеттик комитети"},
        "contacts": [
            _contact("Мамытов Улан Эркинович", "Заместитель начальника Антитеррористического центра",
                     "u.mamytov@gknb.kg.example", "+996 312 66 20 75", focal=True),
        ],
    },
    {
        "country": "KG", "acronym": "PS GKNB", "kind": "border",
        "names": {"en": "Border Service of the State Committee for National Security of the Kyrgyz Republic",
                  "ru": "Пограничная служба Государственного комитета национальной безопасности Кыргызской "
                        "Республики"},
        "contacts": [
            _contact("Сыдыков Марат Асанович", "Начальник отдела пограничного контроля",
                     "m.sydykov@border.kg.example", "+996 312 54 81 09", focal=True),
        ],
    },
    {
        "country": "KG", "acronym": "MID", "kind": "foreign_affairs",
        "names": {"en": "Ministry of Foreign Affairs of the Kyrgyz Republic",
                  "ru": "Министерство иностранных дел Кыргызской Республики",
                  "ky": "Кыргыз Республикасынын Тышкы иштер министрлиги"},
        "contacts": [
            _contact("Alina Sultanbekova", "Counsellor, International Security Department",
                     "a.sultanbekova@mfa.kg.example", "+996 312 62 05 45", locale="en", focal=True),
            _contact("Иманалиев Эрмек Кубанычбекович", "Первый секретарь управления международной безопасности",
                     "e.imanaliev@mfa.kg.example", "+996 312 62 05 47"),
        ],
    },
]

_TJ = [
    {
        "country": "TJ", "acronym": "MVD", "kind": "interior",
        "names": {"en": "Ministry of Internal Affairs of the Republic of Tajikistan",
                  "ru": "Министерство внутренних дел Республики Таджикистан",
                  "tg": "Вазорати корҳои дохилии Ҷумҳурии Тоҷикистон"},
        "contacts": [
            _contact("Рахимов Фаридун Саидович", "Начальник управления по борьбе с организованной преступностью",
                     "f.rakhimov@vkd.tj.example", "+992 37 221 00 45", focal=True),
            _contact("Назарова Мадина Шарифовна", "Старший инспектор отдела международного сотрудничества",
                     "m.nazarova@vkd.tj.example", "+992 93 500 12 34"),
        ],
    },
    {
        "country": "TJ", "acronym": "GP", "kind": "prosecutor",
        "names": {"en": "Prosecutor General's Office of the Republic of Tajikistan",
                  "ru": "Генеральная прокуратура Республики Таджикистан",
                  "tg": "Прокуратураи генералии Ҷумҳурии Тоҷикистон"},
        "contacts": [
            _contact("Саидов Бахтиёр Умарович", "Прокурор отдела по надзору за исполнением законов о "
                     "противодействии терроризму и экстремизму", "b.saidov@prokuratura.tj.example",
                     "+992 37 227 31 58", focal=True),
        ],
    },
    {
        "country": "TJ", "acronym": "GKNB", "kind": "security",
        "names": {"en": "State Committee for National Security of the Republic of Tajikistan",
                  "ru": "Государственный комитет национальной безопасности Республики Таджикистан",
                  "tg": "Кумитаи давлатии амнияти миллии Ҷумҳурии Тоҷикистон"},
        "contacts": [
            _contact("Шарипов Джамшед Абдуллоевич", "Заместитель начальника управления по борьбе с терроризмом",
                     "j.sharipov@gknb.tj.example", "+992 37 221 84 30", focal=True),
        ],
    },
    {
        "country": "TJ", "acronym": "DFM", "kind": "fiu",
        "names": {"en": "Financial Monitoring Department under the National Bank of Tajikistan",
                  "ru": "Департамент финансового мониторинга при Национальном банке Таджикистана"},
        "contacts": [
            _contact("Курбонова Нигина Рустамовна", "Начальник отдела финансового анализа",
                     "n.kurbonova@fmd.tj.example", "+992 37 227 02 61", focal=True),
            _contact("Firuz Davlatov", "Head of the International Relations Division",
                     "f.davlatov+cooperation@fmd.tj.example", "+992 90 744 18 25", locale="en"),
        ],
    },
    {
        "country": "TJ", "acronym": "KChS", "kind": "emergency",
        "names": {"en": "Committee of Emergency Situations and Civil Defence under the Government of the "
                        "Republic of Tajikistan",
                  "ru": "Комитет по чрезвычайным ситуациям и гражданской обороне при Правительстве Республики "
                        "Таджикистан"},
        "contacts": [
            _contact("Мирзоев Рустам Хамидович", "Начальник управления предупреждения чрезвычайных ситуаций",
                     "r.mirzoev@khf.tj.example", "+992 37 221 45 67", focal=True),
        ],
    },
    {
        "country": "TJ", "acronym": "TS", "kind": "customs",
        "names": {"en": "Customs Service under the Government of the Republic of Tajikistan",
                  "ru": "Таможенная служба при Правительстве Республики Таджикистан"},
        "contacts": [
            _contact("Одинаев Сухроб Назарович", "Начальник отдела организации таможенного контроля",
                     "s.odinaev@customs.tj.example", "+992 37 233 17 09", focal=True),
        ],
    },
]

_TM = [
    {
        "country": "TM", "acronym": "MVD", "kind": "interior",
        "names": {"en": "Ministry of Internal Affairs of Turkmenistan",
                  "ru": "Министерство внутренних дел Туркменистана",
                  "tk": "Türkmenistanyň Içeri işler ministrligi"},
        "contacts": [
            _contact("Аннаев Мердан Ходжаевич", "Начальник отдела международного сотрудничества",
                     "m.annayev@mvd.tm.example", "+993 12 39 00 21", focal=True),
        ],
    },
    {
        "country": "TM", "acronym": "GP", "kind": "prosecutor",
        "names": {"en": "Prosecutor General's Office of Turkmenistan",
                  "ru": "Генеральная прокуратура Туркменистана",
                  "tk": "Türkmenistanyň Baş prokuraturasy"},
        "contacts": [
            _contact("Овезова Огульджерен Бердыевна", "Прокурор отдела по надзору за соблюдением законности",
                     "o.ovezova@prokuratura.tm.example", "+993 12 35 18 44", focal=True),
        ],
    },
    {
        "country": "TM", "acronym": "MNB", "kind": "security",
        "names": {"en": "Ministry of National Security of Turkmenistan",
                  "ru": "Министерство национальной безопасности Туркменистана",
                  "tk": "Türkmenistanyň Milli howpsuzlyk ministrligi"},
        "contacts": [
            _contact("Гельдыев Батыр Аманович", "Начальник отдела по борьбе с терроризмом",
                     "b.geldiyev@mnb.tm.example", "+993 12 40 27 13", focal=True),
        ],
    },
    {
        "country": "TM", "acronym": "GPS", "kind": "border",
        "names": {"en": "State Border Service of Turkmenistan",
                  "ru": "Государственная пограничная служба Туркменистана",
                  "tk": "Türkmenistanyň Döwlet serhet gullugy"},
        "contacts": [
            _contact("Чарыев Довлет Мухаммедович", "Начальник отдела пограничного контроля",
                     "d.charyev@border.tm.example", "+993 12 48 05 36", focal=True),
            _contact("Maral Orazova", "Senior Officer, International Relations Department",
                     "m.orazova@border.tm.example", "+993 65 21 43 87", locale="en"),
        ],
    },
    {
        "country": "TM", "acronym": "SFM", "kind": "fiu",
        "names": {"en": "Financial Monitoring Service under the Ministry of Finance and Economy of Turkmenistan",
                  "ru": "Служба финансового мониторинга при Министерстве финансов и экономики Туркменистана"},
        "contacts": [
            _contact("Нурмурадов Арслан Ширлиевич", "Начальник отдела анализа финансовой информации",
                     "a.nurmuradov@sfm.tm.example", "+993 12 94 31 62", focal=True),
        ],
    },
]

_UZ = [
    {
        "country": "UZ", "acronym": "MVD", "kind": "interior",
        "names": {"en": "Ministry of Internal Affairs of the Republic of Uzbekistan",
                  "ru": "Министерство внутренних дел Республики Узбекистан",
                  "uz": "Oʻzbekiston Respublikasi Ichki ishlar vazirligi"},
        "contacts": [
            _contact("Юсупов Шерзод Бахтиёрович", "Начальник управления по противодействию терроризму и "
                     "экстремизму", "sh.yusupov@iiv.uz.example", "+998 71 233 00 45", focal=True),
            _contact("Каримова Дилноза Азизовна", "Главный инспектор управления международного сотрудничества",
                     "d.karimova@iiv.uz.example", "+998 90 123 40 56"),
        ],
    },
    {
        "country": "UZ", "acronym": "GP", "kind": "prosecutor",
        "names": {"en": "Prosecutor General's Office of the Republic of Uzbekistan",
                  "ru": "Генеральная прокуратура Республики Узбекистан",
                  "uz": "Oʻzbekiston Respublikasi Bosh prokuraturasi"},
        "contacts": [
            _contact("Ташпулатов Азиз Рустамович", "Прокурор отдела по надзору за исполнением законов о "
                     "противодействии терроризму", "a.tashpulatov@prokuratura.uz.example", "+998 71 232 18 07",
                     focal=True),
        ],
    },
    {
        "country": "UZ", "acronym": "SGB", "kind": "security",
        "names": {"en": "State Security Service of the Republic of Uzbekistan",
                  "ru": "Служба государственной безопасности Республики Узбекистан",
                  "uz": "Oʻzbekiston Respublikasi Davlat xavfsizlik xizmati"},
        "contacts": [
            _contact("Рахматуллаев Бобур Улугбекович", "Начальник отдела международного сотрудничества",
                     "b.rakhmatullaev@sgb.uz.example", "+998 71 239 54 20", focal=True),
        ],
    },
    {
        "country": "UZ", "acronym": "DBEP", "kind": "fiu",
        "names": {"en": "Department for Combating Economic Crimes under the Prosecutor General's Office of the "
                        "Republic of Uzbekistan",
                  "ru": "Департамент по борьбе с экономическими преступлениями при Генеральной прокуратуре "
                        "Республики Узбекистан"},
        "contacts": [
            _contact("Мирзаева Нодира Шухратовна", "Начальник управления финансового мониторинга",
                     "n.mirzaeva@dbep.uz.example", "+998 71 202 61 33", focal=True),
            _contact("Jasur Umarov", "Chief Inspector, International Cooperation Division",
                     "j.umarov@dbep.uz.example", "+998 93 517 28 04", locale="en"),
        ],
    },
    {
        "country": "UZ", "acronym": "MChS", "kind": "emergency",
        "names": {"en": "Ministry of Emergency Situations of the Republic of Uzbekistan",
                  "ru": "Министерство по чрезвычайным ситуациям Республики Узбекистан",
                  "uz": "Oʻzbekiston Respublikasi Favqulodda vaziyatlar vazirligi"},
        "contacts": [
            _contact("Турсунов Отабек Фарходович", "Начальник отдела по предупреждению чрезвычайных ситуаций",
                     "o.tursunov@fvv.uz.example", "+998 71 239 10 72", focal=True),
        ],
    },
    {
        "country": "UZ", "acronym": "MID", "kind": "foreign_affairs",
        "names": {"en": "Ministry of Foreign Affairs of the Republic of Uzbekistan",
                  "ru": "Министерство иностранных дел Республики Узбекистан",
                  "uz": "Oʻzbekiston Respublikasi Tashqi ishlar vazirligi"},
        "contacts": [
            _contact("Aziza Khodjaeva", "Counsellor, International Security Department",
                     "a.khodjaeva@mfa.uz.example", "+998 71 233 64 75", locale="en", focal=True),
        ],
    },
]

_REGIONAL = [
    {
        # Seated in Tashkent; it belongs to no single country.
        "country": None, "acronym": "RATS SCO", "kind": "regional",
        "names": {"en": "Regional Anti-Terrorist Structure of the Shanghai Cooperation Organisation",
                  "ru": "Региональная антитеррористическая структура Шанхайской организации сотрудничества"},
        "contacts": [
            _contact("Исаков Руслан Маратович", "Старший специалист Исполнительного комитета",
                     "r.isakov@ecrats.example", "+998 71 120 00 34", focal=True),
            _contact("Liu Yang", "Senior Specialist, Executive Committee", "liu.yang@ecrats.example",
                     "+998 71 120 00 38", locale="en"),
        ],
    },
]

#: Every demo agency, country by country, then the regional body.
AGENCIES: list[dict] = _KZ + _KG + _TJ + _TM + _UZ + _REGIONAL
