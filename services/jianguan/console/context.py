"""Who is looking, in which language, at which URL: what every page is rendered for."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from jianguan.console.i18n import translate


@dataclass(frozen=True, slots=True)
class Ctx:
    lang: str
    username: str
    role: str
    csrf: str
    path: str
    query: dict[str, str]

    def t(self, text: str) -> str:
        """``text`` (English, as written where it is shown) in the viewer's language."""
        return translate(text, self.lang)

    def url(self, path: str, **query: str) -> str:
        q = {k: v for k, v in query.items() if v}
        return path + ("?" + urlencode(q) if q else "")

    def with_query(self, **changes: str | int) -> str:
        """This page with some query parameters changed (an empty value removes one)."""
        query = {**self.query, **{k: str(v) for k, v in changes.items()}}
        return self.url(self.path, **query)

    def switch_url(self) -> str:
        """This page in the other language."""
        return self.url(self.path, **{**self.query, "lang": "en" if self.lang == "zh" else "zh"})
