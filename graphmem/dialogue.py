"""Conversation turns as memory: who spoke, when, and what "I", "you" and "yesterday" meant.

A turn is stored as an episode whose text is "Speaker: what they said" and whose metadata carry the
speaker, the listener, the session, the turn id and the session's date-time. Two readings depend on
that metadata, and the dialogue profile asks for them as data (``DomainProfile.speaker_pronouns``,
``relative_times``):

- relative times ("yesterday", "last week", "next month", "two days ago") are resolved against the
  session's date and written after the phrase in brackets, "yesterday [7 May 2023]", so the episode
  an answer is read from says when, and a "when" question finds the date in its words;
- first and second person are read as the speaker and the listener for extraction only, so "I went
  to a support group" gives facts about Caroline, not about "I" (which no fact may name).
"""
from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Iterator, Mapping

from .errors import GraphmemError

MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
WEEKDAYS = [d.lower() for d in calendar.day_name]
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2}


class ChatFormatError(GraphmemError, ValueError):
    """A chat file that cannot be read; the message names the line and what is wrong."""


@dataclass(frozen=True)
class Turn:
    """One thing said in a conversation. ``time``: the session's date-time as written (any form
    ``parse_time`` reads); ``caption``: what a shared photo shows, when one was shared."""

    speaker: str
    text: str
    session: str = ""
    time: str = ""
    id: str = ""
    listener: str = ""
    caption: str = ""

    @property
    def words(self) -> str:
        """What was said, with the photo described when one was shared."""
        return f"{self.text} [photo: {self.caption}]" if self.caption else self.text

    @property
    def said(self) -> str:
        """The episode text: "Speaker: what was said"."""
        return f"{self.speaker}: {self.words}"

    @property
    def meta(self) -> dict[str, str]:
        fields = {"speaker": self.speaker, "listener": self.listener, "session": self.session,
                  "time": self.time, "turn": self.id}
        return {k: v for k, v in fields.items() if v}


# --- dates ---------------------------------------------------------------------------------------
_LOCOMO_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})\s*$", re.I)
_DAY_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})\s*$")


def parse_time(text: str) -> datetime | None:
    """A session's date-time: ISO 8601 ("2023-05-08", "2023-05-08T13:56"), LoCoMo's "1:56 pm on 8
    May, 2023" or "8 May 2023"; None for anything else (the turn then has no date to resolve by)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        pass
    m = _LOCOMO_TIME.match(text)
    if m:
        hour, minute, half, day, month, year = m.groups()
        hour = int(hour) % 12 + (12 if half.lower() == "pm" else 0)
        return _date(int(year), month, int(day), hour, int(minute))
    m = _DAY_MONTH_YEAR.match(text)
    return _date(int(m.group(3)), m.group(2), int(m.group(1))) if m else None


def _date(year: int, month_name: str, day: int, hour: int = 0, minute: int = 0) -> datetime | None:
    month = MONTHS.get(month_name.lower())
    try:
        return datetime(year, month, day, hour, minute) if month else None
    except ValueError:
        return None


def day_text(d: date) -> str:
    """"7 May 2023": the form conversation benchmarks answer in."""
    return f"{d.day} {calendar.month_name[d.month]} {d.year}"


def _month_shift(d: date, months: int) -> str:
    n = d.year * 12 + d.month - 1 + months
    return f"{calendar.month_name[n % 12 + 1]} {n // 12}"


def _ago(number: str, unit: str, d: date) -> str | None:
    n = _NUMBERS.get(number.lower()) or (int(number) if number.isdigit() else None)
    if n is None:
        return None
    unit = unit.rstrip("s")
    if unit == "day":
        return day_text(d - timedelta(days=n))
    if unit == "week":
        return f"{n} week{'s' if n > 1 else ''} before {day_text(d)}"
    if unit == "month":
        return _month_shift(d, -n)
    return str(d.year - n)


def _relative(phrase: str, d: date) -> str | None:
    """What a relative time phrase (lower case) means on the day ``d``; None when it says no date."""
    words = phrase.split()
    fixed = {"yesterday": day_text(d - timedelta(days=1)), "last night": day_text(d - timedelta(days=1)),
             "today": day_text(d), "tonight": day_text(d), "this morning": day_text(d),
             "tomorrow": day_text(d + timedelta(days=1)),
             "last week": f"the week before {day_text(d)}", "next week": f"the week after {day_text(d)}",
             "this week": f"the week of {day_text(d)}",
             "last weekend": f"the weekend before {day_text(d)}",
             "this weekend": f"the weekend of {day_text(d)}",
             "next weekend": f"the weekend after {day_text(d)}",
             "last month": _month_shift(d, -1), "this month": _month_shift(d, 0),
             "next month": _month_shift(d, 1),
             "last year": str(d.year - 1), "this year": str(d.year), "next year": str(d.year + 1)}
    if phrase in fixed:
        return fixed[phrase]
    if len(words) == 2 and words[1] in WEEKDAYS and words[0] in ("last", "next", "this"):
        when = {"last": "before", "next": "after", "this": "of the week of"}[words[0]]
        return f"the {words[1].capitalize()} {when} {day_text(d)}"
    if len(words) == 2 and words[0] in ("last", "this") and words[1] in ("summer", "winter", "spring", "fall", "autumn"):
        return f"{words[1]} {d.year - 1 if words[0] == 'last' and words[1] != 'winter' else d.year}"
    m = re.match(r"^(\w+(?: of)?) (day|week|month|year)s? ago$", phrase)
    return _ago(m.group(1), m.group(2), d) if m else None


_RELATIVE = re.compile(
    r"\b(yesterday|last night|today|tonight|this morning|tomorrow"
    r"|(?:last|next|this) (?:week|weekend|month|year|summer|winter|spring|fall|autumn"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of|\d+) (?:day|week|month|year)s? ago)\b",
    re.I)


def resolve_relative_times(text: str, when: datetime | date | None) -> str:
    """``text`` with each relative time phrase followed by its date in brackets, "yesterday [7 May
    2023]"; unchanged without a date, and a bracket already written is not written again."""
    if when is None or not text:
        return text
    day = when.date() if isinstance(when, datetime) else when

    def annotate(m: re.Match) -> str:
        meaning = _relative(m.group(0).lower(), day)
        following = text[m.end():m.end() + 2]
        return m.group(0) if meaning is None or following.startswith(" [") else f"{m.group(0)} [{meaning}]"

    return _RELATIVE.sub(annotate, text)


# --- first and second person -----------------------------------------------------------------------
# Contractions first: the alternation takes the first that matches.
_FIRST = re.compile(r"\b(I'm|I've|I'd|I'll|I|me|myself|my|mine)\b")
_SECOND = re.compile(r"\b(you're|you've|you'd|you'll|yourself|yours|your|you)\b", re.I)
_SPEAKER_PREFIX = re.compile(r"^[^:\n]{1,60}:\s*")


# Present-tense verbs said after "I": named, they take the third person ("I love" -> "Ana loves"),
# or the parser reads "Ana love" as one name. A closed list: a past tense or a noun is left alone.
_PRESENT = frozenset(
    "love like live work have want think go do feel need hope enjoy know play plan make take get prefer "
    "hate study teach own run paint read write cook see watch volunteer believe remember miss try "
    "collect practice adore use keep wish mean guess agree support visit travel spend find".split())
_ADVERBS = "really|also|just|still|always|never|often|usually|actually|definitely|totally|absolutely|truly"
_FIRST_VERB = re.compile(rf"\bI((?: (?:{_ADVERBS}))?) (am|{'|'.join(sorted(_PRESENT))})\b")


def _third_person(verb: str) -> str:
    irregular = {"am": "is", "have": "has", "do": "does", "go": "goes"}
    if verb in irregular:
        return irregular[verb]
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + ("es" if verb.endswith(("s", "sh", "ch", "x", "o")) else "s")


def _person(name: str, word: str) -> str:
    lower = word.lower()
    if lower in ("my", "mine", "your", "yours"):
        return f"{name}'s"
    for short, verb in (("'m", " is"), ("'re", " is"), ("'ve", " has"), ("'d", " would"), ("'ll", " will")):
        if lower.endswith(short):
            return name + verb
    return name


def speaker_view(text: str, speaker: str, listener: str = "") -> str:
    """What a turn says with its people named: "I"/"my" become the speaker, "you"/"your" the
    listener (when known). The speaker's "Name:" prefix is dropped: the names now stand in the
    sentences. For extraction only: the episode keeps the words as said."""
    body = _SPEAKER_PREFIX.sub("", text, count=1) if speaker and text.startswith(f"{speaker}:") else text
    if speaker:
        body = _FIRST_VERB.sub(lambda m: f"{speaker}{m.group(1)} {_third_person(m.group(2))}", body)
        body = _FIRST.sub(lambda m: _person(speaker, m.group(0)), body)
    return _SECOND.sub(lambda m: _person(listener, m.group(0)), body) if listener else body


def prepared(text: str, meta: Mapping[str, str] | None, speaker_pronouns: bool,
             relative_times: bool) -> tuple[str, str]:
    """(the text to store, the text to extract from) for a turn with ``meta`` under a profile."""
    meta = meta or {}
    if relative_times:
        text = resolve_relative_times(text, parse_time(meta.get("time", "")))
    extract = speaker_view(text, meta.get("speaker", ""), meta.get("listener", "")) \
        if speaker_pronouns else text
    return text, extract


# --- reading chats -------------------------------------------------------------------------------
def read_chat_jsonl(path: str) -> list[Turn]:
    """Turns from a chat JSONL file, one ``{"session", "time", "speaker", "text"}`` object per line
    (``id`` optional: "S<session>:<n>" by default). Blank lines are skipped; anything else that is
    not such an object is a ``ChatFormatError`` naming the line."""
    turns: list[Turn] = []
    counts: dict[str, int] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            lines = list(fh)
    except OSError as exc:
        raise ChatFormatError(f"cannot read {path}: {exc.strerror}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ChatFormatError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("speaker"), str) \
                or not isinstance(row.get("text"), str) or not row["speaker"].strip():
            raise ChatFormatError(f'{path}:{n}: expected {{"session", "time", "speaker", "text"}} '
                                  f"with a speaker and a text")
        session = str(row.get("session", "") or "")
        counts[session] = counts.get(session, 0) + 1
        turns.append(Turn(speaker=row["speaker"].strip(), text=row["text"], session=session,
                          time=str(row.get("time", "") or ""),
                          id=str(row.get("id") or f"S{session or 0}:{counts[session]}")))
    return with_listeners(turns)


def with_listeners(turns: list[Turn]) -> list[Turn]:
    """Each turn with its listener: the other speaker of a two-person session (left empty when a
    session has more or fewer than two speakers: "you" then names nobody certain)."""
    speakers: dict[str, list[str]] = {}
    for t in turns:
        names = speakers.setdefault(t.session, [])
        if t.speaker not in names:
            names.append(t.speaker)
    out = []
    for t in turns:
        names = speakers[t.session]
        listener = next((s for s in names if s != t.speaker), "") if len(names) == 2 else t.listener
        out.append(t if t.listener or not listener else replace(t, listener=listener))
    return out


def episodes_of(turns: list[Turn]) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    """(source id, title, text, meta) per turn, for ``Memory.observe_many``: the title is the
    session's date-time, so it is shown (and searched) with the turn."""
    for t in turns:
        yield t.id, t.time, t.said, t.meta


def remember_turns(memory, turns: list[Turn], on_batch=None) -> int:
    """Write the turns a memory does not hold yet, in the order said, each at the step after the
    memory's last (a chat added again, or grown, adds only its new turns); returns how many."""
    held = {e.id for e in memory.store.get_episodes([t.id for t in turns])}
    new = [t for t in turns if t.id not in held]
    start = max((e.step for e in memory.store.episodes()), default=-1) + 1 if new else 0
    memory.observe_many(list(episodes_of(new)), steps=range(start, start + len(new)), on_batch=on_batch)
    return len(new)
