"""Masking the names of private individuals (个人隐私) in the text the warehouse exposes.

Rules are in private_persons.yaml. The mask keeps the text's length, so offsets found in the masked text
are offsets in the original too; the original is kept only in tables that no BI view reads
(raw_notice.raw_text, notice_version.raw_text, quarantine_notice).
"""

import re
from functools import cache
from pathlib import Path

import yaml

RULES_FILE = Path(__file__).with_name("private_persons.yaml")
MASK = "某"


@cache
def _rules() -> dict:
    return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _pattern() -> re.Pattern[str]:
    rules = _rules()
    surnames = _alternation(list(rules["compound_surnames"]) + list("".join(rules["surnames"].split())))
    stop = _alternation(rules["stop_words"])
    # A role, then a surname, then one or two given-name characters that neither start a stop word nor are
    # already masked (某) ...
    given = rf"(?:(?!{stop}|{MASK})[\u4e00-\u9fff])"
    # and the name must end there: at a stop word, punctuation, a digit or the end (群众安置相关 is no name)
    end = rf"(?=[^\u4e00-\u9fff]|{stop}|$)"
    return re.compile(
        rf"(?P<role>{_alternation(rules['roles'])})(?P<surname>{surnames})(?P<given>{given}{given}?){end}"
    )


def mask_private_persons(text: str) -> str:
    """`text` with each private individual's given name replaced by 某 (贫困户曾小明 → 贫困户曾某某).

    A name found after a role word is masked wherever else it occurs in the same text (当时对曾小明户…).
    """
    names = {match["surname"] + match["given"]: match["surname"] + MASK * len(match["given"])
             for match in _pattern().finditer(text)}
    if not names:
        return text
    every_mention = re.compile(_alternation(names))
    return every_mention.sub(lambda match: names[match[0]], text)
