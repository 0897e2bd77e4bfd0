"""How values are shown to a person (pure): Beijing time everywhere, numbers grouped, shares as
percentages, durations in the largest sensible units, the Measures' places in the viewer's
language."""

from __future__ import annotations

import math
import re

from jianguan.domain.calendar import beijing_time
from jianguan.domain.law import Citation

_REF = re.compile(r"Art\. (\d+)(?: ¶(\d+))?(?: \((\d+)\))?")


def beijing(ts: float | None) -> str:
    """A stored Unix time in Beijing time; 0 or None as a dash; a value outside the calendar
    as itself."""
    if not ts:
        return "—"
    try:
        return beijing_time(ts)
    except (OverflowError, OSError, ValueError):
        return f"{ts} (not a date)"


def number(value: float | None, digits: int = 0) -> str:
    """Grouped by thousands, rounded to ``digits`` (no float noise: 0.8, not 0.7999…)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def percent(share: float | None) -> str:
    """A share (0..1) as a percentage with up to two decimals, trailing zeros dropped."""
    if share is None or not math.isfinite(share):
        return "—"
    text = f"{share * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


_UNITS = {
    "zh": (("天", 86400), ("小时", 3600), ("分", 60), ("秒", 1)),
    "en": (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)),
}


def duration(seconds: float | None, lang: str) -> str:
    """A span for a person: under a minute to a tenth of a second, else the two largest units
    (``8 d 11 h``, ``8天11小时``)."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    units = _UNITS["zh" if lang == "zh" else "en"]
    sep = "" if lang == "zh" else " "
    sign, s = ("-" if seconds < 0 else ""), abs(seconds)
    if s < 60:
        text = f"{s:.1f}".rstrip("0").rstrip(".")
        return f"{sign}{text}{sep}{units[-1][0]}"
    parts = []
    whole = round(s)
    for name, size in units:
        if whole >= size:
            parts.append(f"{whole // size}{sep}{name}")
            whole %= size
        if len(parts) == 2 or (parts and size == 1):
            break
    return sign + sep.join(parts)


def article(ref: str, lang: str) -> str:
    """A platform citation ("Art. 14 ¶1", possibly several) in ``lang``: 第十四条第一款."""
    if lang != "zh":
        return ref

    def zh(m: re.Match[str]) -> str:
        paragraph, item = m.group(2), m.group(3)
        return Citation(
            int(m.group(1)),
            int(paragraph) if paragraph else None,
            int(item) if item else None,
        ).ref_zh

    return _REF.sub(zh, ref)
