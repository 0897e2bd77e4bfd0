"""What a finding says, in parts a reader can have in their own language. Pure.

A store check words what it found as phrases: each an English template with named placeholders
(``{hour}``), which is also its message id in the console's catalogs, and the values that fill
it. The English summary an alert carries is the phrases joined with "; "; the console says the
same phrases in the viewer's language. A value that is itself a word of the checks' vocabulary
(a reason, a formality, a filing status) is translated too; numbers, times and ids are not in
any catalog and stay as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

JOINER = "; "


@dataclass(frozen=True, slots=True)
class Phrase:
    template: str
    args: tuple[tuple[str, str], ...] = ()


def phrase(template: str, **args: object) -> Phrase:
    return Phrase(template, tuple((k, str(v)) for k, v in args.items()))


def _same(text: str) -> str:
    return text


def say(
    phrases: Sequence[Phrase], translate: Callable[[str], str] = _same, joiner: str = JOINER
) -> str:
    """The phrases filled in and joined; ``translate`` gives a template's or a word's words in
    the reader's language (itself when it has none)."""
    return joiner.join(
        translate(p.template).format(**{k: translate(v) for k, v in p.args}) for p in phrases
    )


def encode(phrases: Sequence[Phrase]) -> str:
    """As stored beside an alert: JSON ``[[template, [[name, value], …]], …]`` ("" for none)."""
    if not phrases:
        return ""
    return json.dumps(
        [[p.template, [list(a) for a in p.args]] for p in phrases], ensure_ascii=False
    )


def decode(text: str) -> tuple[Phrase, ...]:
    """``encode``'s inverse."""
    if not text:
        return ()
    return tuple(
        Phrase(str(template), tuple((str(k), str(v)) for k, v in args))
        for template, args in json.loads(text)
    )
