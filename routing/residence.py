"""Where the complainant lives, as the text states it (住在…, 家住…, 住址：…). Pure.

A home address in the text is not always the place of the matter: a reporter of wrongdoing
(举报) gives it so the centre can reach them, and routing by it would send the report to the
reporter's own street office. A noise complaint from home, on the other hand, happens there.
`residence_spans` finds the phrases; the router and the masking of a 举报's dispatch text
decide what they mean for each kind of ticket.
"""

from __future__ import annotations

import re

# Longest first, so 家庭住址 is taken whole rather than as 住址.
RESIDENCE_MARKERS = (
    "户籍所在地",
    "现居住地",
    "家庭住址",
    "家庭地址",
    "居住地址",
    "户籍地址",
    "本人住在",
    "现居住在",
    "户籍地",
    "居住在",
    "居住于",
    "家住在",
    "我住在",
    "本人住",
    "现住址",
    "家住",
    "我住",
    "住在",
    "住址",
    "现住",
    "户籍",
)
# The phrase runs to the next punctuation or line end; a citizen who writes on without
# punctuation still gives an address of bounded length.
_MAX_TAIL = 40
RESIDENCE = re.compile(
    "(?P<marker>"
    + "|".join(map(re.escape, RESIDENCE_MARKERS))
    + r")(?P<sep>\s*[:：]?\s*(?:是|为|在)?\s*)"
    + rf"(?P<where>[^，。；！？,.;!?、\n\r]{{1,{_MAX_TAIL}}})"
)


def residence_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each stated residence in `text`, marker included."""
    return [m.span() for m in RESIDENCE.finditer(text or "")]


def inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether text[start:end] lies within one of `spans`."""
    return any(s <= start and end <= e for s, e in spans)
