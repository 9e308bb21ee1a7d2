"""The FAQ catalogue: the shipped sample, errors in edited files, and free-text matching."""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import ConfigError
from bridge.faq import FaqCatalog, FaqEntry, FaqMatcher, Localized
from bridge.faq.matching import THRESHOLD

CATALOG = FaqCatalog.shipped()
MATCHER = FaqMatcher(CATALOG)

# -- the shipped sample ------------------------------------------------------------------------


def test_sample_has_five_categories_with_unique_ids() -> None:
    ids = [category.id for category in CATALOG.categories]
    assert ids == ["buying", "claims", "payments", "documents", "contacts"]
    for category in CATALOG.categories:
        assert 3 <= len(category.entries) <= 5
        entry_ids = [entry.id for entry in category.entries]
        assert len(set(entry_ids)) == len(entry_ids)
        assert all(entry.category_id == category.id for entry in category.entries)


def test_sample_texts_are_complete_in_both_languages() -> None:
    texts: list[Localized] = [category.title for category in CATALOG.categories]
    for entry in CATALOG.entries():
        texts += [entry.question, entry.answer]
        if entry.link is not None:
            assert entry.link.url.startswith("https://insurer.example/")
            texts.append(entry.link.label)
        assert len(entry.answer.uk) <= 600
        assert len(entry.answer.en) <= 600
    for text in texts:
        assert text.uk.strip()
        assert text.en.strip()
        assert re.search("[а-яіїєґ]", text.uk.lower()), text.uk
        assert not re.search("[а-яіїєґ]", text.en.lower()), text.en


def test_lookups_and_languages() -> None:
    entry = CATALOG.entry("claims", "accident")
    claims = CATALOG.category("claims")
    assert entry is not None
    assert claims is not None
    assert entry in claims.entries
    assert CATALOG.entry("claims", "nope") is None
    assert CATALOG.entry("nope", "accident") is None
    assert CATALOG.category("nope") is None
    assert len(CATALOG.entries()) == sum(len(c.entries) for c in CATALOG.categories)
    text = Localized(uk="Привіт", en="Hello")
    assert text.get("en") == "Hello"
    assert text.get("uk") == "Привіт"
    assert text.get("de") == "Привіт"
    assert text.get(None) == "Привіт"


# -- invalid files ---------------------------------------------------------------------------

GOOD_QUESTION = """\
      - id: how-to
        question: {uk: "Як?", en: "How?"}
        answer: {uk: "Так.", en: "Like this."}
"""


def load(tmp_path: Path, text: str) -> FaqCatalog:
    path = tmp_path / "faq.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return FaqCatalog.load(path)


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    # One sentence: a single full stop, at the end (dots inside quotes or URLs are fine).
    assert message.endswith(".")
    assert not re.search(r"\.\s", re.sub(r'"[^"]*"', '""', message)), message
    return message


def test_minimal_file_loads(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        """\
        categories:
          - id: claims
            title: {uk: "Випадки", en: "Claims"}
            questions:
              - id: how-to
                question: {uk: "Як?", en: "How?"}
                answer:
                  uk: |
                    Так.
                  en: Like this.
                link: {url: "http://x.example/a", label: {uk: "Тут", en: "Here"}}
                keywords: [слово, word]
        """,
    )
    entry = catalog.entry("claims", "how-to")
    assert entry is not None
    assert entry.answer == Localized(uk="Так.", en="Like this.")
    assert entry.link is not None
    assert entry.link.url == "http://x.example/a"
    assert entry.keywords == ("слово", "word")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match=r"^FAQ_FILE .*absent\.yaml cannot be read: .+\.$"):
        FaqCatalog.load(path)


def test_directory_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        FaqCatalog.load(tmp_path)
    path = tmp_path / "faq.yaml"
    path.write_bytes(b"categories: \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot be read: it is not UTF-8 text"):
        FaqCatalog.load(path)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        # YAML syntax: the mark's line
        ("categories:\n  - id: a\n    title: x: y\n", 3, "the YAML is invalid (mapping values"),
        (
            "categories:\n  - id: a\n    title: {uk: x\n  - bad\n",
            4,
            "the YAML is invalid (expected ',' or '}', but got '<stream end>', "
            "while parsing a flow mapping started on line 3)",
        ),
        ("categories:\n  - id: a\n\tbad: 1\n", 3, "the YAML is invalid"),
        ("categories:\n  - id: \x07\n", 2, "the YAML is invalid (special characters"),
        # shape of the top level
        ("", 1, 'the top level must be a mapping with a "categories" list'),
        ("- a\n- b\n", 1, 'the top level must be a mapping with a "categories" list'),
        ("faq: []\n", 1, 'the top level has an unknown key "faq"'),
        ("# nothing\ncategories:\n", 2, '"categories" must be a non-empty list'),
        ("categories: {a: 1}\n", 1, '"categories" must be a non-empty list'),
    ],
)
def test_bad_structure(tmp_path: Path, text: str, line: int, problem: str) -> None:
    message = load_error(tmp_path, text)
    assert f"faq.yaml, line {line}: {problem}" in message


def category(body: str = "", *, questions: str = GOOD_QUESTION, cid: str = "claims") -> str:
    return (
        "categories:\n"
        f"  - id: {cid}\n"
        '    title: {uk: "Випадки", en: "Claims"}\n'
        f"{body}"
        "    questions:\n"
        f"{questions}"
    )


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            category(
                questions=(
                    "      - id: how-to\n"
                    '        question: {uk: "Як?", en: "How?"}\n'
                    '        answer: {uk: "Так."}\n'
                )
            ),
            7,
            'question "claims/how-to" has no "en" answer',
        ),
        (
            category(
                questions=(
                    "      - id: how-to\n"
                    '        question: {uk: "Як?", en: "How?"}\n'
                    "        answer:\n"
                    '          uk: "Так."\n'
                    '          en: "  "\n'
                )
            ),
            9,
            'question "claims/how-to" has an empty "en" answer',
        ),
        (
            category(
                questions=(
                    "      - id: how-to\n"
                    '        question: {uk: "Як?", en: "How?"}\n'
                    "        answer:\n"
                    "          uk: Так.\n"
                    "          en:\n"
                )
            ),
            9,
            'question "claims/how-to" has an empty "en" answer',
        ),
        (
            category(
                questions=(
                    "      - id: how-to\n"
                    '        question: {uk: "Як?", en: "How?"}\n'
                    '        anwser: {uk: "Так.", en: "Like this."}\n'
                )
            ),
            7,
            'question #1 of category "claims" has an unknown key "anwser" '
            "(expected id, question, answer, link, keywords)",
        ),
        (
            category(questions=('      - id: how-to\n        question: {uk: "Як?", en: "How?"}\n')),
            5,
            'question "claims/how-to" has no "answer"',
        ),
        (
            category(
                questions=(
                    "      - id: how-to\n"
                    '        question: {uk: "Як?", en: "How?", ru: "Как?"}\n'
                    '        answer: {uk: "Так.", en: "Like this."}\n'
                )
            ),
            6,
            'the question of question "claims/how-to" has an unknown key "ru"',
        ),
        (
            category(
                questions=(
                    "      - id: how-to\n"
                    '        question: "How?"\n'
                    '        answer: {uk: "Так.", en: "Like this."}\n'
                )
            ),
            6,
            'the question of question "claims/how-to" must be a mapping with "uk" and "en"',
        ),
        (category(cid="Claims!"), 2, 'category #1 has the id "Claims!", but an id must be'),
        (
            category(cid="a-very-long-category-id"),
            2,
            'category #1 has the id "a-very-long-category-id", but an id must be 1-20 '
            "lowercase Latin letters, digits or hyphens",
        ),
        (
            category(questions=GOOD_QUESTION.replace("how-to", "how to")),
            5,
            'question #1 of category "claims" has the id "how to"',
        ),
        (
            category(questions=GOOD_QUESTION + GOOD_QUESTION),
            8,
            'question id "how-to" is used twice in category "claims" (first on line 5)',
        ),
        (category(questions=""), 4, 'category "claims" has no questions'),
        (category(questions="      []\n"), 4, 'category "claims" has no questions'),
        (
            category(questions="      how-to\n"),
            5,
            'the questions of category "claims" must be a list',
        ),
        (
            'categories:\n  - id: claims\n    title: {uk: "Випадки", en: "Claims"}\n',
            2,
            'category "claims" has no questions',
        ),
        (category("    titel: x\n"), 4, 'category #1 has an unknown key "titel"'),
        (category("    id: again\n"), 4, 'category #1 has the key "id" twice'),
        (
            "categories:\n  - id: claims\n    questions:\n" + GOOD_QUESTION,
            2,
            'category "claims" has no "title"',
        ),
        (
            "categories:\n  - title: {uk: a, en: b}\n    questions:\n" + GOOD_QUESTION,
            2,
            'category #1 has no "id"',
        ),
        (
            category(
                questions=GOOD_QUESTION
                + '        link: {url: "ftp://insurer.example/x", label: {uk: a, en: b}}\n'
            ),
            8,
            'the link of question "claims/how-to" must be an http:// or https:// address',
        ),
        (
            category(questions=GOOD_QUESTION + '        link: {url: "https://", label: {uk: a}}\n'),
            8,
            'the link of question "claims/how-to" must be an http:// or https:// address, '
            'not "https://"',
        ),
        (
            category(questions=GOOD_QUESTION + '        link: {url: "https://x.example"}\n'),
            8,
            'the link of question "claims/how-to" has no "label"',
        ),
        (
            category(
                questions=GOOD_QUESTION + "        link:\n          url: https://x.example\n"
                "          label: {uk: a}\n"
            ),
            10,
            'the link of question "claims/how-to" has no "en" label',
        ),
        (
            category(questions=GOOD_QUESTION + "        keywords: word\n"),
            8,
            'the keywords of question "claims/how-to" must be a list of words',
        ),
        (
            category(questions=GOOD_QUESTION + "        keywords: [a, [b]]\n"),
            8,
            'the keywords of question "claims/how-to" must be a list of words',
        ),
    ],
)
def test_bad_entries(tmp_path: Path, text: str, line: int, problem: str) -> None:
    message = load_error(tmp_path, text)
    assert f"FAQ_FILE {tmp_path / 'faq.yaml'}, line {line}: {problem}" in message


def test_duplicate_category_names_first_line(tmp_path: Path) -> None:
    text = category() + category().removeprefix("categories:\n")
    message = load_error(tmp_path, text)
    assert 'line 8: category id "claims" is already used on line 2.' in message


# -- matching --------------------------------------------------------------------------------

MATCHES = {
    ("buying", "osago-buy"): [
        "Як купити автоцивілку?",
        "ПОЛІС ОСАГО КУПИТИ",
        "хочу оформити автоцивілку онлайн",
        "how do I buy mtpl insurance",
    ],
    ("buying", "osago-price"): [
        "Скільки коштує автоцивілка?",
        "ціна осаго",
        "яка вартість автоцивілки",
        "How much does MTPL cost?",
    ],
    ("buying", "kasko"): ["що покриває каско", "скільки коштує каско", "What does KASKO cover"],
    ("buying", "travel"): [
        "страхування для подорожі за кордон",
        "страховка для поїздки в Європу",
        "travel insurance for a schengen visa",
    ],
    ("claims", "accident"): [
        "потрапив у ДТП, що робити???",
        "у мене аварія що робити",
        "what should i do after an accident",
        "I had a car acident",
    ],
    ("claims", "report"): ["як повідомити про страховий випадок", "how to report a claim"],
    ("claims", "claim-docs"): [
        "Які документи потрібні для виплати?",
        "які докуметни потрібні для виплати",
        "what documents do i need for a claim",
    ],
    ("claims", "payout-time"): ["коли буде виплата", "when will i get my payout"],
    ("payments", "pay-card"): [
        "як оплатити картою",
        "можна оплатити полiс карткою",  # Latin i in "полiс"
        "оплата карткою",
        "how can i pay by card",
    ],
    ("payments", "instalments"): ["чи можна розстрочку", "можна платити частинами?"],
    ("payments", "refund"): [
        "як повернути кошти за поліс",
        "Чи можна повернути гроші",
        "I want a refnd",
        "refund please",
    ],
    ("payments", "charged-no-policy"): [
        "гроші списали а поліс не прийшов",
        "на пошту не прийшов поліс",
    ],
    ("documents", "policy-copy"): [
        "я загубив поліс",
        "КОПІЯ ПОЛІСУ",
        "не можу знайти свій поліс",
        "how do i get a copy of my policy",
    ],
    ("documents", "change-data"): ["змінила прізвище", "як змінити дані в полісі"],
    ("documents", "buy-docs"): ["які документи потрібні для оформлення полісу"],
    ("documents", "policy-check"): ["перевірити поліс", "is my policy valid"],
    ("contacts", "hours"): [
        "графік роботи",
        "ви працюєте в суботу?",
        "What are your opening hours",
    ],
    ("contacts", "phone"): ["номер телефону", "телефон гарячої лінії", "your phone number"],
    ("contacts", "office"): ["де ваш офіс", "адреса офісу", "where is your office"],
    ("contacts", "operator"): [
        "Як зв'язатися з оператором?",
        "як звʼязатися з оператором",
        "як зв’язатися з оператором",
        "хочу поговорити з живою людиною",
        "як звязатися з oпeратором",  # no apostrophe, Latin o, p and e
    ],
}
PHRASES = [(key, text) for key, texts in MATCHES.items() for text in texts]


@pytest.mark.parametrize(("key", "text"), PHRASES, ids=[text for _, text in PHRASES])
def test_customer_phrasings_find_their_entry(key: tuple[str, str], text: str) -> None:
    found = MATCHER.best(text)
    assert found is not None, f"{text!r} matched nothing"
    assert (found.category_id, found.id) == key


NO_MATCH = [
    "Добрий день",
    "Добрий день!",
    "Доброго ранку",
    "hello",
    "Hi there",
    "дякую",
    "Дякую за допомогу!",
    "Thank you very much",
    "ok",
    "Ок",
    "так",
    "ні",
    "👍",
    "+380 67 123 45 67",
    "1234 5678 9012 3456",
    "AA1234BB",
    "у мене є питання",
    "Мене звати Іван Петренко",
    "Слава Україні!",
    "Where is my policy?",
    "де моя машина",
    "коли ви відповісте?",
    "поліс",
    "страхування",
    "",
    "   ",
    "Я вже тиждень чекаю на відповідь, ваш оператор не відповідає, це жахливе "
    "обслуговування і я буду скаржитись у нацбанк",
    "I am very unhappy with your service, nobody answers my emails and I will write a "
    "complaint to the regulator",
]


@pytest.mark.parametrize("text", NO_MATCH)
def test_unrelated_texts_find_nothing(text: str) -> None:
    assert MATCHER.best(text) is None


def test_score_is_a_fraction_and_best_is_the_top_score() -> None:
    entry = CATALOG.entry("payments", "refund")
    assert entry is not None
    assert MATCHER.score("Як повернути гроші за поліс?", entry) == pytest.approx(1.0)
    assert MATCHER.score("Добрий день", entry) == 0.0
    text = "хочу повернути гроші"
    scores = {e: MATCHER.score(text, e) for e in CATALOG.entries()}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    assert max(scores, key=lambda e: scores[e]) == MATCHER.best(text)
    assert scores[entry] >= THRESHOLD


def test_score_works_for_an_entry_outside_the_catalogue() -> None:
    entry = FaqEntry(
        id="x",
        category_id="y",
        question=Localized(uk="Як повернути гроші за парковку?", en="Parking refund?"),
        answer=Localized(uk="Так.", en="Yes."),
        link=None,
        keywords=(),
    )
    assert MATCHER.score("повернути гроші", entry) > 0.5
    assert MATCHER.score("гроші за парковку", entry) < MATCHER.score("повернути гроші", entry)


def test_matching_is_fast_on_a_hundred_entries() -> None:
    entries = CATALOG.entries()
    categories = tuple(
        type(c)(f"{c.id}-{n}", c.title, c.entries) for n in range(5) for c in CATALOG.categories
    )
    big = FaqCatalog(categories)
    assert len(big.entries()) >= 5 * len(entries) >= 100
    matcher = FaqMatcher(big)
    texts = [text for _, text in PHRASES] + NO_MATCH
    started = time.perf_counter()
    for text in texts:
        matcher.best(text)
    per_message = (time.perf_counter() - started) / len(texts)
    assert per_message < 0.005


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_best_never_raises(text: str) -> None:
    found = MATCHER.best(text)
    assert found is None or found in CATALOG.entries()


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="полісоаcpxeiyktmhкаско'ʼ’ -!?0123456789", max_size=60))
def test_best_never_raises_on_lookalike_soup(text: str) -> None:
    MATCHER.best(text)
