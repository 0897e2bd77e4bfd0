"""The Interim Measures for the Management of Generative AI Services
(生成式人工智能服务管理暂行办法), in the official simplified-Chinese text, shipped inside the
package (``interim-measures.zh-Hans.txt`` beside this module: one article per line, further
paragraphs indented with two ideographic spaces, items ``（一）…`` on their own lines).

Everything that quotes the law takes the words from here, by citation (article, paragraph, item),
so a quote can be neither retyped nor cut: a paragraph or an item is quoted whole. Reading the
text is the package's own immutable data, parsed once; nothing here touches anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

TITLE = "生成式人工智能服务管理暂行办法"
IN_FORCE = "2023-08-15"  # 第二十四条
TEXT_FILE = "interim-measures.zh-Hans.txt"

_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}
_ARTICLE = re.compile(r"^第([一二三四五六七八九十]+)条 (.+)$")
_CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章 ")
_ITEM = re.compile(r"^（([一二三四五六七八九十]+)）")
_INDENT = "\u3000\u3000"


def numeral(text: str) -> int:
    """一 → 1, 十 → 10, 十四 → 14, 二十 → 20, 二十四 → 24 (the article and item numbers)."""
    if "十" not in text:
        return _DIGITS[text]
    tens, _, units = text.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A 款: its own sentence(s) and its items (项), if any, in order."""

    text: str
    items: tuple[str, ...] = ()

    @property
    def whole(self) -> str:
        return "".join((self.text, *self.items))


@dataclass(frozen=True, slots=True)
class Article:
    number: int
    paragraphs: tuple[Paragraph, ...]

    @property
    def whole(self) -> str:
        return "\n".join(p.whole for p in self.paragraphs)


def parse(text: str) -> dict[int, Article]:
    """The articles of the text in the layout above, by number. Raises ValueError on a line it
    cannot place, so a damaged copy fails loudly rather than quoting wrongly."""
    articles: dict[int, list[Paragraph]] = {}
    current: list[Paragraph] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#") or line == TITLE or _CHAPTER.match(line):
            continue
        if m := _ARTICLE.match(line):
            article = numeral(m.group(1))
            if article != len(articles) + 1:
                raise ValueError(f"line {number}: article {article} out of order")
            current = articles[article] = [Paragraph(m.group(2))]
        elif line.startswith(_INDENT) and current is not None:
            body = line[len(_INDENT) :]
            if m := _ITEM.match(body):
                last = current[-1]
                if numeral(m.group(1)) != len(last.items) + 1:
                    raise ValueError(f"line {number}: item out of order")
                current[-1] = Paragraph(last.text, (*last.items, body))
            else:
                current.append(Paragraph(body))
        else:
            raise ValueError(f"line {number}: not an article, paragraph or item: {line[:20]!r}")
    return {n: Article(n, tuple(ps)) for n, ps in articles.items()}


@cache
def measures() -> dict[int, Article]:
    """The Measures as shipped, parsed once."""
    return parse(files(__package__).joinpath(TEXT_FILE).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Citation:
    """Article, paragraph (款, from 1; None for an article of one paragraph or the whole
    article) and item (项, from 1)."""

    article: int
    paragraph: int | None = None
    item: int | None = None

    @property
    def ref(self) -> str:
        """How the platform names it in cases, alerts and filters: "Art. 14 ¶1"."""
        out = f"Art. {self.article}"
        if self.paragraph is not None:
            out += f" ¶{self.paragraph}"
        if self.item is not None:
            out += f" ({self.item})"
        return out

    @property
    def ref_zh(self) -> str:
        out = f"第{_zh(self.article)}条"
        if self.paragraph is not None:
            out += f"第{_zh(self.paragraph)}款"
        if self.item is not None:
            out += f"第（{_zh(self.item)}）项"
        return out

    def text(self) -> str:
        """The words cited, whole: the article, the paragraph with its items, or the item.
        KeyError/IndexError when the Measures have no such place."""
        article = measures()[self.article]
        if self.paragraph is None:
            if self.item is not None:
                raise ValueError("an item is cited within its paragraph")
            return article.whole
        if self.paragraph < 1:
            raise IndexError(f"{self.ref}: paragraphs count from 1")
        paragraph = article.paragraphs[self.paragraph - 1]
        if self.item is None:
            return paragraph.whole
        if self.item < 1:
            raise IndexError(f"{self.ref}: items count from 1")
        return paragraph.items[self.item - 1]


def _zh(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[units] if units else "")
