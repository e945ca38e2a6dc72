"""What a reply code looks like: the code printed on the letter, sent in the SMS link, typed back.

A code is 12 characters of an alphabet without the look-alikes (no 0/O, 1/I/L): typed from
paper by people, read out over the phone, and printed grouped by four (``B72Y-SPK4-MQ8R``). It
is read in any case, with dashes and spaces anywhere.

Why 12: a code answers a survey that moves an advisor's bonus, so a guessed one must be out of
reach at the scale of the whole database. 31¹² ≈ 7.9 × 10¹⁷ codes. With N = 150,000 live codes
(a large dealer group's open cases) and a guesser allowed 5 × 10⁷ tries in a year (1,000
addresses each getting one try per ten minutes past the limiter's alarm, day and night), the
chance of any hit in that year is N × tries / 31¹² ≈ 10⁻⁵; by SMS, where each try costs the
guesser a message, a million messages give 2 × 10⁻⁷. Six characters (31⁶ ≈ 8.9 × 10⁸) gave
the same guesser about 8,000 hits: that is the old format, still accepted for the cases opened
before it changed (see :data:`LEGACY_LENGTH`).
"""

from __future__ import annotations

import re

#: no 0/O, 1/I/L: the code is typed from paper by people
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: the length of every code made now
CODE_LENGTH = 12
#: codes made before the change were six characters; they stay valid while their case is open
LEGACY_LENGTH = 6
#: printed in groups of this many characters
GROUP = 4

_CODE = re.compile(rf"[{ALPHABET}]{{{CODE_LENGTH}}}|[{ALPHABET}]{{{LEGACY_LENGTH}}}")


def normalise(code: str) -> str | None:
    """``b72y-spk4 mq8r`` -> ``B72YSPK4MQ8R``; None when it cannot be a reply code."""
    text = re.sub(r"[\s-]", "", code or "").upper()
    return text if _CODE.fullmatch(text) else None


def grouped(code: str) -> str:
    """A code as printed and shown: ``B72Y-SPK4-MQ8R``; an old six-character code as it was."""
    if len(code) != CODE_LENGTH:
        return code
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))
