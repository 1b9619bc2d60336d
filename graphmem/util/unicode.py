"""Text that every encoder takes: Python strings may hold lone surrogates that UTF-8 refuses."""
from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with each lone surrogate (a JSON "\\ud800", a file name's or a command-line
    argument's undecodable byte) made U+FFFD: no hash, model, HTTP client or file format takes
    them, and one should not stop a build or an LLM call."""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text
