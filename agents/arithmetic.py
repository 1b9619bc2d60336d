"""Arithmetic the game's text asks for, worked out so its answer can name what to use.

"Solve the following math problem: divide 36 by 2." gives 18; the agent then treats "18" as named
by its instructions, so "take 18 avocados" is wanted. Verb forms ("add 3 and 4", "subtract 2 from
9", "multiply 6 by 7", "divide 36 by 2") and operator words ("3 plus 4", "9 minus 2", "6 times 7",
"36 divided by 2") are read; nothing else is guessed.
"""
from __future__ import annotations

import re

_N = r"(-?\d+(?:\.\d+)?)"
FORMS = [
    (re.compile(rf"\badd\s+{_N}\s+(?:and|to)\s+{_N}", re.I), lambda a, b: a + b),
    (re.compile(rf"\bsubtract\s+{_N}\s+from\s+{_N}", re.I), lambda a, b: b - a),
    (re.compile(rf"\bmultiply\s+{_N}\s+(?:by|and|with)\s+{_N}", re.I), lambda a, b: a * b),
    (re.compile(rf"\bdivide\s+{_N}\s+by\s+{_N}", re.I), lambda a, b: a / b if b else None),
    (re.compile(rf"{_N}\s+plus\s+{_N}", re.I), lambda a, b: a + b),
    (re.compile(rf"{_N}\s+minus\s+{_N}", re.I), lambda a, b: a - b),
    (re.compile(rf"{_N}\s+(?:times|multiplied by)\s+{_N}", re.I), lambda a, b: a * b),
    (re.compile(rf"{_N}\s+divided by\s+{_N}", re.I), lambda a, b: a / b if b else None),
]


def answers(text: str) -> list[str]:
    """The results of the arithmetic ``text`` states, as the game would write them ("18", "2.5")."""
    out = []
    for form, apply in FORMS:
        for m in form.finditer(text or ""):
            value = apply(float(m.group(1)), float(m.group(2)))
            if value is not None:
                out.append(str(int(value)) if float(value).is_integer() else f"{value:g}")
    return list(dict.fromkeys(out))
