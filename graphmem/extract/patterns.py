"""Whole-sentence forms that the small spaCy parser misreads, matched before parsing.

"A rusty key lies on the wooden shelf." is tagged key/ADJ lies/NOUN; "Inside the cabinet is a small
box." and "The garden is north of the kitchen." parse without a usable subject or place; "Exits:
north, west." is one noun with appositions. Each form here is matched against a whole sentence, so a
sentence that only looks like one (a name without an article, a place with a clause after it) is
left to the parser, and unclear text still yields nothing.
"""
from __future__ import annotations

import re

from ..normalize import canonical_entity
from ..profiles import DIRECTIONS, EXIT, Vocabulary, connection
from .base import MAX_NAME_WORDS, RawTriple

# Words that would make a matched phrase more than a name: "the shelf next to the door".
NOT_IN_NAMES = {"and", "or", "but", "to", "by", "with", "near", "next", "beside", "behind", "under",
                "above", "below", "from", "into", "onto", "that", "which", "who", "where", "when",
                "while", "is", "are", "was", "were", "it", "you", "there", "here", "not", "no"}

_DIR = "|".join(sorted(DIRECTIONS, key=len, reverse=True))
_NAME = r"(?:an?|the|some)\s+[\w'-]+(?:\s+[\w'-]+){0,6}?"
# A thing named by its amount, with no article: "30ml of aluminum", "23 coconuts".
_COUNTED = r"\d+(?:\.\d+)?[a-z]*\s+[\w'-]+(?:\s+[\w'-]+){0,5}?"
_POSITION = (r"(?:is|are|lies|lie|rests|rest|sits|sit|stands|stand|hangs|hang|"
             r"(?:is|are)\s+(?:lying|resting|sitting|standing|hanging|placed|kept|located))")
_PREP = r"(?P<prep>on|upon|in|inside|within)"
_END = r"\s*[.!]?\s*$"

# "A rusty key lies on the wooden shelf."
THING_PLACE = re.compile(rf"^\s*(?P<things>{_NAME})\s+{_POSITION}\s+{_PREP}\s+(?P<place>{_NAME}){_END}", re.I)
# "Inside the cabinet is a small box." / "On the shelf lie a knife and a fork."
PLACE_THINGS = re.compile(
    rf"^\s*{_PREP}\s+(?P<place>{_NAME})\s*,?\s+{_POSITION}\s+(?P<things>{_NAME}(?:\s*(?:,|\band\b)\s*{_NAME})*){_END}",
    re.I)
# "The garden is north of the kitchen." / "North of the kitchen is the garden."
ROOM_DIRECTION = re.compile(
    rf"^\s*(?P<b>{_NAME})\s+(?:is|lies)\s+(?:to\s+the\s+)?(?P<dir>{_DIR})\s+of\s+(?P<a>{_NAME}){_END}", re.I)
DIRECTION_ROOM = re.compile(
    rf"^\s*(?:to\s+the\s+)?(?P<dir>{_DIR})\s+of\s+(?P<a>{_NAME})\s+(?:is|lies)\s+(?P<b>{_NAME}){_END}", re.I)
# "Exits: north, west." / "Obvious exits are north and east."
EXIT_LIST = re.compile(
    rf"^\s*(?:obvious\s+)?exits?\s*(?::|\bare\b|\bis\b)\s*(?P<dirs>(?:{_DIR})(?:\s*(?:,|\band\b|\bor\b)\s*(?:{_DIR}))*){_END}",
    re.I)

# "In one part of the room you see a fridge that is closed." / "There is also an oven." / "You also
# see a counter that has a knife, and a banana on it." / "... a box, that is empty."
SEEN = re.compile(
    rf"^\s*(?P<part>(?:in|on)\s+(?:one|another|the\s+other)\s+part\s+of\s+the\s+room,?\s+)?"
    rf"(?:you\s+(?P<also>also\s+)?(?:can\s+)?see|there\s+(?:is|are)\s+(?P<also2>also))\s+(?P<thing>{_NAME}|{_COUNTED})"
    rf"(?:\s*,?\s+(?:that|which)\s+(?P<rest>.+?))?{_END}", re.I)
HOLDS = re.compile(r"^(?:has|holds|contains)\s+(?P<things>.+?)(?:\s+(?P<prep>on|in)\s+it)?$", re.I)
IS_STATE = re.compile(r"^is\s+(?P<state>\w+)$", re.I)
# "To the West you see the corridor." / "To the north is a closed door."
EXIT_SEEN = re.compile(rf"^\s*to\s+the\s+(?P<dir>{_DIR}),?\s+(?:you\s+(?:can\s+)?see|is|lies)\s+\S.*?{_END}", re.I)

# Sentences as the patterns see them: ended by a full stop, "!" or "?", or by a line break.
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def _thing(phrase: str, vocabulary: Vocabulary) -> tuple[str | None, list[str]]:
    """(name, states its leading adjectives give) for a noun phrase, None if it is not a plain name."""
    words = canonical_entity(phrase).split()
    if not words or len(words) > MAX_NAME_WORDS or NOT_IN_NAMES & set(words):
        return None, []
    states = []
    state_words = vocabulary.state_words
    while len(words) > 1 and (words[0] in state_words or words[0] in vocabulary.prepared_states):
        states.append(state_words.get(words[0], words[0]))
        words = words[1:]
    return " ".join(words), states


def _place(phrase: str, room: str | None, vocabulary: Vocabulary) -> str | None:
    name, _ = _thing(phrase, vocabulary)
    if name in vocabulary.room_places:
        return room  # "on the floor": in the room the observation is about, when it names one
    return name


def _things(listed: str, vocabulary: Vocabulary) -> list[tuple[str | None, list[str]]]:
    return [_thing(part, vocabulary) for part in re.split(r"\s*(?:,|\band\b)\s*", listed) if part.strip()]


def _facts(sentence: str, room: str | None, vocabulary: Vocabulary) -> list[RawTriple] | None:
    """The sentence's facts when it has one of the forms, else None (the parser reads it)."""
    for form in (THING_PLACE, PLACE_THINGS):
        m = form.match(sentence)
        if m:
            things, place = _things(m["things"], vocabulary), _place(m["place"], room, vocabulary)
            named = [(name, states) for name, states in things if name is not None]
            if place is None or not named or len(named) < len(things):
                return None
            rel = "on" if m["prep"].lower() in {"on", "upon"} else "in"
            out: list[RawTriple] = []
            for name, states in named:
                out.append((name, rel, place))
                out.extend((name, "is", s) for s in states)
            return out
    for form in (ROOM_DIRECTION, DIRECTION_ROOM):
        m = form.match(sentence)
        if m:
            (b, _), (a, _) = _thing(m["b"], vocabulary), _thing(m["a"], vocabulary)
            return [(b, connection(m["dir"].lower()), a)] if a and b and a != b else None
    # A plain "You see a locked normal looking locker." is left to the parser, which knows names.
    if room and (m := SEEN.match(sentence)) and (m["part"] or m["also"] or m["also2"] or m["rest"]):
        return _seen(m["thing"], m["rest"], room, vocabulary)
    m = EXIT_SEEN.match(sentence)
    if m and room:
        return [(room, EXIT, m["dir"].lower())]
    m = EXIT_LIST.match(sentence)
    if m and room:
        return [(room, EXIT, d.lower()) for d in re.findall(_DIR, m["dirs"], re.I)]
    return None


def _seen(thing: str, rest: str | None, room: str, vocabulary: Vocabulary) -> list[RawTriple] | None:
    """Facts of a thing seen in ``room``, with what its "that ..." clause says it holds or is."""
    name, states = _thing(thing, vocabulary)
    if name is None:
        return None
    out: list[RawTriple] = [(name, "in", room), *((name, "is", s) for s in states)]
    if not rest:
        return out
    if (m := IS_STATE.match(rest)) is not None:
        word = m["state"].lower()
        state = "empty" if word == "empty" else vocabulary.state_words.get(word)
        return out + [(name, "is", state)] if state else out
    if (m := HOLDS.match(rest)) is not None:
        if m["things"].lower() in {"nothing", "nothing at all"}:
            return out + [(name, "is", "empty")]  # a holder with room for things
        held = _things(m["things"], vocabulary)
        named = [(n, states) for n, states in held if n is not None]
        if len(named) < len(held):
            return None
        rel = "on" if (m["prep"] or "").lower() == "on" else "in"
        for item, item_states in named:
            out.append((item, rel, name))
            out.extend((item, "is", s) for s in item_states)
        return out
    return None


def split_forms(text: str, room: str | None, vocabulary: Vocabulary) -> tuple[str, list[RawTriple]]:
    """(text without the sentences matched here, their facts); ``room`` is the observation's room,
    ``vocabulary`` the profile's words for states and for places that stand for the room."""
    found: list[RawTriple] = []
    kept: list[str] = []
    last = 0
    for m in SENTENCE.finditer(text):
        facts = _facts(m.group(), room, vocabulary)
        if facts is None:
            continue
        found.extend(facts)
        kept.append(text[last:m.start()])
        kept.append("\n")  # keeps the sentences around it apart for the parser
        last = m.end()
    kept.append(text[last:])
    return "".join(kept), found
