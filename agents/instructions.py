"""Instructions the game's own text gives the player, read into a plan the agent follows.

Text games tell the player what to type in a few general forms:
- an ordered list: "take these actions in order: examine blueberry, touch pea, slice tomato.";
- a list under a heading, one step a line: "Directions:\\n  slice the red apple\\n  prepare meal";
- a quoted command: "Simon says, 'touch pea'." / "type 'open sesame'";
- a task sentence: "The current task is to take the eggplant.";
- a goal told as steps in prose: "First, head east. Then, lift the passkey from the floor of the
  chamber." (``read_goal_plan``: the goal only, where every clause is an order; an observation's
  prose also narrates what the player did, "You lift the passkey").
A step is recognised only when it starts with a verb of the general vocabulary
(``agents.commands.VERBS``), so prose in quotes or a task like "solve the problem" is not a command.
A plan is ordered (only its next step is wanted) or a checklist (every step not done yet is wanted).
A step is done when the agent plays it (or a command that starts with it: "slice apple" is done by
"slice apple with knife") and the game does not refuse it. The command whose response gave the
plan is its source: once the plan is done, reading the source again may give the next instruction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .commands import VERBS, normalize_command

ORDERED_LIST = re.compile(r"\bin (?:this |the following )?order\s*:\s*(?P<list>[^.\n]+)", re.I)
HEADED_LIST = re.compile(r"^\s*(?:directions|instructions|steps|to do)\s*:\s*\n(?P<lines>(?:[ \t]*\S[^\n]*\n?)+)",
                         re.I | re.M)
# Things to gather, one a line: "Ingredients:\n  red apple\n  chicken wing"
GATHER_LIST = re.compile(r"^\s*(?:ingredients|items|materials|you will need|you need)\s*:\s*\n(?P<lines>(?:[ \t]*\S[^\n]*\n?)+)",
                         re.I | re.M)
# A quote the text introduces as something to say or type is a command whatever its verb ("meow").
TOLD = re.compile(r"\b(?:says|say|type|enter|command)\s*[,:]?\s*['\"\u2018\u201c](?P<cmd>[^'\"\u2019\u201d\n]{2,60})['\"\u2019\u201d]", re.I)
QUOTED = re.compile(r"['\"\u2018\u201c](?P<cmd>[^'\"\u2019\u201d\n]{2,60})['\"\u2019\u201d]")
TASK_SENTENCE = re.compile(r"\b(?:current|next|your|the)\s+task\s+is\s+to\s+(?P<cmd>[^.,;:!?\n]+)", re.I)
LIST_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+|then\s+)?|\s+then\s+|\s+and then\s+", re.I)
MAX_STEP_WORDS = 6
PRONOUNS = frozenset({"it", "them", "this", "that", "one", "everything", "all"})
# Words that stand for any thing: "pick up objects" names none.
ANY_THING = frozenset({"object", "objects", "item", "items", "thing", "things", "stuff"})


def _a_thing(name: str) -> bool:
    words = name.split()
    return bool(words) and len(words) <= 4 and name not in PRONOUNS and not ANY_THING & set(words)

# Prose steps: the clause separators of a told sequence, and the phrasings of a few general actions.
CLAUSES = re.compile(r"[.!?;]+|,\s*and\b|,?\s*\b(?:then|after that|following that|next|and then|once you've done that|"
                     r"with that (?:over with|done)|that done|first(?: of all| thing)?|finally)\b,?", re.I)
_DIRECTIONS = r"north|south|east|west|northeast|northwest|southeast|southwest|up|down"
PROSE_MOVE = re.compile(rf"\b(?:head|go|travel|venture|walk|move|run|proceed|take a trip|make your way)\s+"
                        rf"(?:to the\s+|towards?\s+the\s+)?({_DIRECTIONS})\b", re.I)
PROSE_TAKE = re.compile(r"\b(?:pick up|lift|grab|take|get|retrieve|recover|collect|fetch)\s+(?P<thing>.+?)"
                        r"(?:\s+(?:from|off|out of|that|which)\b.*)?$", re.I)
PROSE_PUT = re.compile(r"\b(?:put|place|set|rest|lay|insert|drop)\s+(?P<thing>.+?)\s+(?P<prep>on|onto|in|into|inside)"
                       r"\s+(?P<place>.+?)(?:\s+(?:in|within|at|found|located|that|which)\b.*)?$", re.I)
PROSE_STATE = re.compile(r"\b(?:ensure|make sure|check)\s+(?:that\s+)?(?P<thing>.+?)\s+is\s+"
                         r"(?P<state>open|opened|unlocked|closed|shut)\b", re.I)
PROSE_VERB = re.compile(r"\b(?P<verb>open|close|unlock|lock|drop|eat|drink|examine|read)\s+(?P<rest>.+?)"
                        r"(?:\s+(?:in|on|at|from|inside|within)\s+the\s+.*)?$", re.I)


_SAME_VERB = {"insert": "put", "place": "put", "get": "take", "move": "go", "walk": "go"}
_SAME_PREP = {"into": "in", "inside": "in", "onto": "on", "upon": "on"}


def _canonical(command: str) -> list[str]:
    words = command.split()
    return [_SAME_VERB.get(words[0], words[0]), *(_SAME_PREP.get(w, w) for w in words[1:])] if words else []


def carries_out(command: str, step: str) -> bool:
    """Whether playing ``command`` does ``step``: the same words up to the game's verb and
    preposition phrasing ("insert coin into box" does "put coin in box"), or the step with more
    said ("slice apple with knife" does "slice apple")."""
    played, wanted = _canonical(command), _canonical(step)
    if len(wanted) < 2:  # a bare verb ("look") is done by itself only
        return played == wanted and bool(wanted)
    return played[:len(wanted)] == wanted


def as_command(text: str, exact: bool = False, told: bool = False) -> str | None:
    """``text`` as a command when it reads as one (a known verb first, a few words), else None.
    ``exact``: the text is a command the game spelled out (kept word for word, articles too);
    otherwise it is prose ("to take the eggplant") and loses its articles. ``told``: the text says
    to type it, so any verb goes."""
    command = " ".join(re.sub(r"[^\w\s'-]", " ", text.lower()).split()) if exact else normalize_command(text)
    words = command.split()
    if not words or (words[0] not in VERBS and not told) or len(words) > MAX_STEP_WORDS or "and" in words[1:] and not exact:
        return None
    return command


@dataclass
class Plan:
    steps: list[str]
    ordered: bool
    source: str | None = None            # the command whose response gave the plan
    done: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.done = self.done or [False] * len(self.steps)

    def wanted(self) -> list[str]:
        """Steps worth playing now: the next one of an ordered plan, every undone one otherwise but
        the list's last step, which ends it ("prepare meal"), until it is the only one left."""
        undone = [s for s, d in zip(self.steps, self.done) if not d]
        if self.ordered:
            return undone[:1]
        return undone[:-1] if len(undone) > 1 and not self.done[-1] else undone

    def complete(self) -> bool:
        return all(self.done)

    def played(self, command: str, realises: str | None = None) -> bool:
        """Marks the step ``command`` carries out (the game did not refuse it); True if one was.
        ``realises``: the step the command does in the game's own phrasing ("cook apple in oven"
        for "roast apple")."""
        for i, step in enumerate(self.steps):
            if self.done[i]:
                continue
            if carries_out(command, step) or step == realises:
                self.done[i] = True
                return True
            if self.ordered:
                return False
        return False


def read_plan(text: str, source: str | None = None) -> Plan | None:
    """The plan ``text`` gives, if it gives one (the most explicit form wins)."""
    m = ORDERED_LIST.search(text)
    if m is not None:
        steps = [c for part in LIST_SEPARATOR.split(m["list"]) if (c := as_command(part, exact=True, told=True))]
        if steps:
            return Plan(steps, ordered=True, source=source)
    m = HEADED_LIST.search(text)
    if m is not None:
        steps = [c for line in m["lines"].splitlines() if (c := as_command(line))]
        gather = GATHER_LIST.search(text)
        things = [normalize_command(line) for line in gather["lines"].splitlines()] if gather else []
        steps = [f"take {t}" for t in things if t and len(t.split()) <= 4] + steps
        if steps:
            return Plan(steps, ordered=False, source=source)
    quoted = [c for q in TOLD.finditer(text) if (c := as_command(q["cmd"], exact=True, told=True))] or \
        [c for q in QUOTED.finditer(text) if (c := as_command(q["cmd"], exact=True))]
    if quoted:
        return Plan(quoted, ordered=True, source=source)
    tasks = [c for t in TASK_SENTENCE.finditer(text) if (c := as_command(t["cmd"]))]
    if tasks:
        return Plan(tasks[-1:], ordered=True, source=source)
    return None


def _prose_step(clause: str, last_thing: str | None) -> str | None:
    if (m := PROSE_MOVE.search(clause)) is not None:
        return f"go {m.group(1).lower()}"
    if (m := PROSE_STATE.search(clause)) is not None:  # "ensure that the gateway is open"
        thing = normalize_command(m["thing"])
        verb = {"open": "open", "opened": "open", "unlocked": "unlock"}.get(m["state"].lower(), "close")
        return f"{verb} {thing}" if _a_thing(thing) and verb != "unlock" else None
    if (m := PROSE_PUT.search(clause)) is not None:
        thing, place = normalize_command(m["thing"]), normalize_command(m["place"])
        thing = last_thing if thing in PRONOUNS and last_thing else thing
        prep = "on" if m["prep"].lower() in {"on", "onto"} else "in"
        return f"put {thing} {prep} {place}" if _a_thing(thing) and _a_thing(place) else None
    if (m := PROSE_TAKE.search(clause)) is not None:
        thing = normalize_command(m["thing"])
        return f"take {thing}" if _a_thing(thing) else None
    if (m := PROSE_VERB.search(clause)) is not None:
        rest = normalize_command(m["rest"])
        return f"{m['verb'].lower()} {rest}" if rest and len(rest.split()) <= 5 else None
    return None


def read_goal_plan(goal: str) -> Plan | None:
    """The ordered steps a goal tells in prose ("First, head east. Then, take the key."); an
    explicit form (``read_plan``) wins."""
    explicit = read_plan(goal)
    if explicit is not None:
        return explicit
    steps: list[str] = []
    for clause in CLAUSES.split(goal or ""):
        last_thing = steps[-1].split(" ", 1)[1] if steps and steps[-1].startswith("take ") else None
        if clause and (step := _prose_step(clause, last_thing)):
            steps.append(step)
    return Plan(steps, ordered=True) if steps else None
