"""Data minimisation (Art. 11): find raw personal information in provider-written text.

The platform must never receive what identifies a user. Three kinds of identifier are recognised:
mainland mobile numbers, resident identity card numbers (checksum-verified, so that long digit runs
in hashes or order numbers are not flagged) and e-mail addresses. Findings name the kind and the
position, never the value, so that a rejection message does not repeat the personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9A-Za-z])"
)
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A cheap pre-filter (this runs on every free-text and reference field): text with neither an
# '@' nor a run of 11 digits, spaces or dashes that starts with a digit not preceded by a letter
# or digit cannot contain any of the above (each pattern starts at such a boundary, its leading
# '+' included). Kept free of alternation and nested groups: ~8x faster than the obvious
# pattern. The native scanner (contracts/_wire.c) applies the same test.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9][0-9 -]{10}")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

MOBILE = "mainland mobile phone number"
RESIDENT_ID = "resident identity card number"
EMAIL = "e-mail address"


@dataclass(frozen=True, slots=True)
class Finding:
    """A raw identifier found in text: its kind and where (character offsets, end exclusive)."""

    kind: str
    start: int
    end: int


def resident_id_is_valid(candidate: str) -> bool:
    """True for a well-formed 18-character resident ID (GB 11643): valid date and checksum."""
    if len(candidate) != 18 or not candidate[:17].isdigit():
        return False
    try:
        date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(candidate[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == candidate[17].upper()


def find_personal_information(text: str) -> Finding | None:
    """The first raw identifier in ``text``, or None. Pure; cheap for text without one."""
    if not text or ("@" not in text and _DIGIT_RUN.search(text) is None):
        return None
    for m in _RESIDENT_ID.finditer(text):
        if resident_id_is_valid(m.group()):
            return Finding(RESIDENT_ID, m.start(), m.end())
    mobile = _MOBILE.search(text)
    if mobile is not None:
        return Finding(MOBILE, mobile.start(), mobile.end())
    email = _EMAIL.search(text)
    if email is not None:
        return Finding(EMAIL, email.start(), email.end())
    return None
