"""Cleaning raw TextWorld output into the text an agent (and an extractor) should read.

Raw text looks like ``<ASCII-art banner>\\n<intro>\\n-= Kitchen =-\\n...\\n\\n>   <spaces>  -= Kitchen =-0/1``:
the banner only on the first observation, then the body, the ``>`` prompt and a status line
(room header, score/moves). The room header inside the body is kept: it names the current room.
"""
from __future__ import annotations

import re

# The prompt line: ">" then optional padding and the status line "-= Room =-SCORE/MOVES".
_PROMPT_TAIL = re.compile(r"\n>[^\n]*\s*$")
_BLANK_RUNS = re.compile(r"\n\s*\n+")


def clean_observation(raw: str) -> str:
    """Strip the banner, the trailing prompt and status line, and collapse blank lines."""
    text = raw.replace("\r\n", "\n")
    text = _PROMPT_TAIL.sub("", "\n" + text)
    lines = text.split("\n")
    # The banner is ASCII art: leading lines without a single letter or digit.
    start = 0
    while start < len(lines) and not any(ch.isalnum() for ch in lines[start]):
        start += 1
    body = "\n".join(line.rstrip() for line in lines[start:])
    return _BLANK_RUNS.sub("\n\n", body).strip()
