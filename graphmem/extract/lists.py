"""Written lists in a text: a recipe or a note in a game is a document of its own.

A header line ending in ":" ("Ingredients:", "Directions:") and one item a line; which headers
hold needs and which steps is the profile's vocabulary.
"""
from __future__ import annotations

import re

from ..normalize import canonical_entity
from ..profiles import Vocabulary
from .base import MAX_NAME_WORDS, RawTriple

LIST_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]{0,30}):\s*$")
# The title of a written document and its underline ("Recipe #1" / "---------").
UNDERLINE = re.compile(r"^\s*[-=]{3,}\s*$")
IRREGULAR_PARTICIPLES = {"fry": "fried", "make": "made", "cut": "cut", "put": "put", "eat": "eaten",
                         "take": "taken", "get": "gotten", "give": "given", "read": "read", "set": "set"}


def participle(verb: str) -> str:
    """Past participle of a regular English verb ("slice" -> "sliced", "chop" -> "chopped")."""
    verb = verb.lower()
    if verb in IRREGULAR_PARTICIPLES:
        return IRREGULAR_PARTICIPLES[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and len(verb) > 2 and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    if (len(verb) >= 3 and verb[-1] not in "aeiouwxy" and verb[-2] in "aeiou" and verb[-3] not in "aeiou"
            and len(verb) <= 4):
        return verb + verb[-1] + "ed"  # chop -> chopped, dice is caught above
    return verb + "ed"


def split_lists(text: str, words: Vocabulary) -> tuple[str, list[RawTriple]]:
    """(text without its written lists, the lists' facts).

    A recipe or a note in a game is a document: "Ingredients:" items become (recipe, "needs", item)
    and "Directions:" steps "slice the red pepper" become (red pepper, "must be", "sliced") and
    (recipe, "step N", "slice the red pepper"); the document's title and underline go too, so the
    parser never reads the list as one run-on sentence. Text without a list is returned unchanged.
    """
    lines = text.splitlines()
    matches = ((i, LIST_HEADER.match(line)) for i, line in enumerate(lines))
    kinds = {i: m.group(1).strip().lower() for i, m in matches if m}  # each list's kind, by its header's line
    headers = {i: kind for i, kind in kinds.items() if kind in words.needs_headers | words.step_headers}
    if not headers:
        return text, []
    doc = "recipe" if re.search(r"\brecipe\b", text, re.I) else "instructions"
    out: list[RawTriple] = []
    drop: set[int] = set()
    for h, kind in headers.items():
        drop.add(h)
        step = 0
        for i in range(h + 1, len(lines)):
            item = " ".join(lines[i].split()).rstrip(".").lower()
            if not item or LIST_HEADER.match(lines[i]):
                break
            drop.add(i)
            if kind in words.needs_headers:
                out.append((doc, "needs", canonical_entity(item)))
                continue
            step += 1
            out.append((doc, f"step {step}", item))
            verb, _, rest = item.partition(" ")
            thing = canonical_entity(re.sub(r"^(?:the|a|an|some)\s+", "", rest))
            if verb.isalpha() and thing and len(thing.split()) <= MAX_NAME_WORDS:
                out.append((thing, "must be", participle(verb)))
    for i, line in enumerate(lines):
        if UNDERLINE.match(line):
            drop.update({i, i - 1})
    return "\n".join(line for i, line in enumerate(lines) if i not in drop), out
