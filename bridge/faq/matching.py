"""Recognising a FAQ question in a customer's free text, in Ukrainian or English.

Each entry's question (both languages) and keywords become sets of word stems. A message is
compared word by word, tolerating word forms (a light suffix stemmer plus a shared 5-letter
prefix), typos (edit distance 1, or 2 for long words), Latin/Cyrillic lookalike letters and
apostrophe variants. Words are weighted by rarity in the catalogue (IDF), and the score is the
F1 of two coverages: how much of the message the entry explains (so a long complaint with one
matching word does not fire) and how much of the question the message covers (so one generic
word such as "поліс" does not fire either).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bridge.faq.catalog import FaqCatalog, FaqEntry

THRESHOLD = 0.5
"""Lowest score `best` accepts; tuned on the sample catalogue and the phrasings in the tests."""

_MAX_TEXT = 1000  # longer messages are complaints or stories, not FAQ questions
_PREFIX = 5
_KEYWORD_WEIGHT = 1.5  # a keyword hit is a deliberate synonym, stronger than a question word
_QUESTION_WORD_WEIGHT = 0.3  # "де", "when": they tell questions apart but are not the topic

_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´′ʹ"), None)
_RUSSIAN = str.maketrans({"ы": "и", "э": "е", "ё": "е", "ъ": None})
_TO_CYRILLIC = str.maketrans("abcehikmoptxy", "авсенікмортху")
_TO_LATIN = str.maketrans("авсенікмортху", "abcehikmoptxy")
_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> list[str]:
    """Word lists are kept as plain text, which is easier to read and extend."""
    return text.split()


_UK_ENDINGS = sorted(
    _words(
        """
    ування ювання ення ання іння ість ості остей ться тися ється ються ується уються
    ував ювала ували ючи учи ачи ячи ити ати яти іти їти ути оти ете ите ють уть ать ять
    ить іть ила ило или ала ало али ула ули
    ого ому ими іми ами ями ові еві єві ій ий ої ою ею єю ом ем єм ам ям ах ях ів їв их іх
    им ім ую юю ує ює ав ив ов ев ец
    а я у ю о е є и і ї й ь
    """
    ),
    key=len,
    reverse=True,
)
_EN_ENDINGS = sorted(
    _words("ations ation ments ment ances ance ences ence ings ing ies ied ed es ly s e y"),
    key=len,
    reverse=True,
)

_STOPWORDS = frozenset(
    _words(
        """
    я ти ви ми він вона воно вони мені мене мною мій моя моє мої мого моєї моїй моїм моїх
    тобі тебе твій твоя твоє твої вам вас вами нам нас ваш ваша ваше ваші вашого вашої вашій
    вашим ваших наш наша наше наші його її їх їм їй йому собі себе свій своя своє свої свого
    своєї свою як яка який яке які якого якої якому якій яким яких що щоб чого чому чим
    куди звідки чи скільки хто кого кому можна можу може можете можемо треба потрібно
    потрібен потрібна потрібні необхідно хочу хочемо хотів хотіла хотілось хотілося б би
    і й та а але або чи ні не так то це цей ця ці цього цієї цим той ті тут там вже ще
    теж також лише тільки дуже просто будь ласка в у на з із зі зо до від од для по про за
    о об при під над між через без після перед біля є був була було були буде будуть бути
    якщо тоді тому отже ну ось от оце добрий доброго добра добре день дня вечір вечора
    ранок ранку ночі привіт привітик вітаю здрастуйте здравствуйте дякую дякуємо спасибі
    подяка ок окей ok okay гаразд зрозуміло ясно супер клас пане пані шановні
    the a an to of in on at for from by with about as into is are was were be been being am
    do does did done doing have has had i me my mine myself you your yours we us our they
    them their he him his she her it its this that these those there here what which who
    whom whose how why now can could would should shall will may might must need
    want wanted like please thanks thank thx ok okay yes no not hi hello hey dear good
    morning afternoon evening day night bye goodbye and or but if so just also very much
    many any some get got
    """
    )
)

_QUESTION_WORDS = frozenset(_words("де коли where when"))


@dataclass(frozen=True)
class _Profile:
    """An entry's stems, split so that each language's question is judged on its own."""

    questions: tuple[frozenset[str], ...]
    keywords: frozenset[str]
    vocabulary: frozenset[str]


class FaqMatcher:
    """Suggests a FAQ answer for a typed question, or stays silent when unsure."""

    def __init__(self, catalog: FaqCatalog) -> None:
        self._entries = catalog.entries()
        self._profiles = {entry: _profile(entry) for entry in self._entries}
        document_frequency: dict[str, int] = {}
        for profile in self._profiles.values():
            for stem in profile.vocabulary:
                document_frequency[stem] = document_frequency.get(stem, 0) + 1
        count = max(len(self._entries), 1)
        self._idf = {s: math.log(1 + count / n) for s, n in document_frequency.items()}
        for stem in {_stem(word) for word in _QUESTION_WORDS} & self._idf.keys():
            self._idf[stem] *= _QUESTION_WORD_WEIGHT
        self._unknown_weight = math.log(1 + count)
        self._by_stem: dict[str, list[FaqEntry]] = {}
        for entry, profile in self._profiles.items():
            for stem in profile.vocabulary:
                self._by_stem.setdefault(stem, []).append(entry)
        self._by_prefix: dict[str, set[str]] = {}
        self._by_deletion: dict[str, set[str]] = {}
        for stem in document_frequency:
            if len(stem) >= _PREFIX:
                self._by_prefix.setdefault(stem[:_PREFIX], set()).add(stem)
            for variant in _deletions(stem, _allowed_typos(len(stem))):
                self._by_deletion.setdefault(variant, set()).add(stem)
        self._longest = max(map(len, document_frequency), default=0)
        self._cache: dict[str, dict[str, float]] = {}

    def best(self, text: str) -> FaqEntry | None:
        """The entry whose question (or keywords) closely matches a customer's free text.

        None when nothing is close enough, e.g. for greetings, thanks, numbers or complaints.
        """
        stems = _stems(text[:_MAX_TEXT])
        if not stems:
            return None
        matches = {stem: self._matches(stem) for stem in stems}
        candidates: dict[FaqEntry, None] = {}
        for found in matches.values():
            for vocabulary_stem in found:
                candidates.update(dict.fromkeys(self._by_stem[vocabulary_stem]))
        best: FaqEntry | None = None
        best_score = 0.0
        for entry in self._entries:  # catalogue order breaks ties
            if entry in candidates:
                score = self._score(matches, self._profiles[entry])
                if score > best_score:
                    best, best_score = entry, score
        return best if best_score >= THRESHOLD else None

    def score(self, text: str, entry: FaqEntry) -> float:
        """How well `text` matches `entry`, from 0 to 1; `best` needs at least THRESHOLD."""
        stems = _stems(text[:_MAX_TEXT])
        if not stems:
            return 0.0
        profile = self._profiles.get(entry) or _profile(entry)
        return self._score({stem: self._matches(stem) for stem in stems}, profile)

    def _score(self, matches: dict[str, dict[str, float]], profile: _Profile) -> float:
        # Precision: the share of the message (by word weight) this entry explains.
        explained = total = 0.0
        hits: dict[str, float] = {}
        for found in matches.values():
            weight = self._message_weight(found)
            total += weight
            in_entry = [(v, s) for v, s in found.items() if v in profile.vocabulary]
            if in_entry:
                explained += weight * max(s for _, s in in_entry)
            for vocabulary_stem, similarity in in_entry:
                hits[vocabulary_stem] = max(hits.get(vocabulary_stem, 0.0), similarity)
        precision = explained / total if total else 0.0
        # Recall: the share of the question (in the better language) the message covers;
        # keywords count only when hit, so they can raise recall but never lower it.
        recall = 0.0
        for question in profile.questions:
            mass = gain = 0.0
            for stem in question:
                weight = self._idf.get(stem, self._unknown_weight)  # `score` takes any entry
                mass += weight
                gain += weight * hits.get(stem, 0.0)
            for stem in profile.keywords - question:
                if stem in hits:
                    mass += self._idf[stem] * _KEYWORD_WEIGHT
                    gain += self._idf[stem] * _KEYWORD_WEIGHT * hits[stem]
            if mass:
                recall = max(recall, gain / mass)
        if not precision or not recall:
            return 0.0
        return 2 * precision * recall / (precision + recall)

    def _message_weight(self, found: dict[str, float]) -> float:
        """A message word weighs as much as its catalogue match; unknown words weigh most."""
        if not found:
            return self._unknown_weight
        best = max(found.items(), key=lambda item: (item[1], self._idf[item[0]]))
        return self._idf[best[0]]

    def _matches(self, stem: str) -> dict[str, float]:
        """Catalogue stems similar to a message stem, with a similarity from 0 to 1."""
        cached = self._cache.get(stem)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if stem in self._idf:
            found[stem] = 1.0
        if len(stem) >= _PREFIX:
            for other in self._by_prefix.get(stem[:_PREFIX], ()):
                found.setdefault(other, 0.85)
        limit = _allowed_typos(len(stem))
        if limit and len(stem) <= self._longest + limit:
            candidates: set[str] = set()
            for variant in _deletions(stem, limit):
                candidates.update(self._by_deletion.get(variant, ()))
            for other in candidates:
                if other in found:
                    continue
                allowed = min(limit, _allowed_typos(len(other)))
                distance = _distance(stem, other, allowed)
                if distance <= allowed:
                    found[other] = 0.85 if distance == 1 else 0.7
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[stem] = found
        return found


def _profile(entry: FaqEntry) -> _Profile:
    questions = (frozenset(_stems(entry.question.uk)), frozenset(_stems(entry.question.en)))
    keywords = frozenset(_stems(" ".join(entry.keywords)))
    return _Profile(questions, keywords, frozenset().union(*questions, keywords))


def _stems(text: str) -> list[str]:
    """Distinct content-word stems of a text, in order."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    stems: dict[str, None] = {}
    for raw in _WORD.findall(text):
        word = _fix_script(raw).translate(_RUSSIAN)
        if len(word) < 2 or word in _STOPWORDS:
            continue
        stems[_stem(word)] = None
    return list(stems)


def _fix_script(word: str) -> str:
    """Undo lookalike letters from the other alphabet ("полiс" with a Latin i)."""
    cyrillic = sum(1 for c in word if "\u0400" <= c <= "\u04ff")
    latin = sum(1 for c in word if "a" <= c <= "z")
    if not cyrillic or not latin:
        return word
    return word.translate(_TO_CYRILLIC if cyrillic >= latin else _TO_LATIN)


def _stem(word: str) -> str:
    """Strip the longest common ending that leaves at least three letters."""
    endings = _EN_ENDINGS if "a" <= word[0] <= "z" else _UK_ENDINGS
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _allowed_typos(length: int) -> int:
    """Short words tolerate no typo: "кошт" and "пошт" are different words."""
    if length >= 8:
        return 2
    return 1 if length >= 5 else 0


def _deletions(word: str, depth: int) -> Iterable[str]:
    """The word minus up to `depth` letters: words that close share one of these."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours costs 1), cut off above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
