"""The game's true state as triples in the memory's vocabulary, for scoring memories.

Vocabulary (names lowercase, no leading article, single spaces):
  (x, "in", room)  (x, "in", container)  (x, "on", supporter)  (x, "in", "inventory")
  (c, "is", "open"|"closed"|"locked")    for openable containers and doors; locked wins
  (room, "has exit", direction)          (room_b, "is <direction> of", room_a)
The vocabulary is the text-game profile's (``graphmem.profiles``), the one the memory writes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from graphmem.normalize import canonical_entity
from graphmem.profiles import DIRECTIONS, EXIT, INVENTORY, connection, connection_direction
from graphmem.profiles import OPENNESS as STATES

Triple = tuple[str, str, str]
# Bookkeeping entities of the cooking games that are not things in the world.
_NOT_THINGS = {"RECIPE", "ingredient", "slot"}


def entity_name(name: str) -> str:
    """The memory's canonical name for a game entity (lowercase, no leading article, single spaces)."""
    return canonical_entity(name)


def placement(fact) -> Triple | None:
    """(thing, "in"|"on", holder) for a location fact, None for any other fact or the player."""
    if fact.name not in ("at", "in", "on") or len(fact.arguments) != 2:
        return None
    thing, holder = fact.arguments
    if thing.type in ("P", "I") or thing.type in _NOT_THINGS or holder.type in _NOT_THINGS:
        return None
    target = INVENTORY if holder.type == "I" else entity_name(holder.name)
    return entity_name(thing.name), "on" if fact.name == "on" else "in", target


def holder_of(facts: Iterable) -> dict[str, str]:
    """Where every thing is: name -> room, container, supporter or "inventory" (player excluded)."""
    return {thing: holder for thing, _, holder in filter(None, map(placement, facts))}


def ground_truth_triples(state) -> list[Triple]:
    """Triples of a state: a StepResult (its ``facts``) or an iterable of textworld Propositions.

    Sorted, so the output never depends on the order the engine lists facts in.
    """
    facts = tuple(getattr(state, "facts", state))
    triples: set[Triple] = set()
    locked = {entity_name(f.arguments[0].name) for f in facts if f.name == "locked"}
    for fact in facts:
        name, args = fact.name, fact.arguments
        located = placement(fact)
        if located is not None:
            triples.add(located)
        elif name in STATES and len(args) == 1:
            thing = entity_name(args[0].name)
            if name == "locked" or thing not in locked:
                triples.add((thing, "is", name))
        elif name.endswith("_of") and name[:-3] in DIRECTIONS and len(args) == 2:
            # north_of(b, a): b lies north of a, so a has an exit north.
            direction = name[:-3]
            room_b, room_a = entity_name(args[0].name), entity_name(args[1].name)
            triples.add((room_b, connection(direction), room_a))
            triples.add((room_a, EXIT, direction))
    return sorted(triples)


# Words that state an openable's state in a sentence ("An open fridge", "You unlock the locker").
_STATE_CUES = {
    "open": re.compile(r"\bopen(?:ed|s)?\b"),
    "closed": re.compile(r"\b(?:closed?|unlock(?:ed|s)?)\b"),
    "locked": re.compile(r"\block(?:ed|s)?\b"),
}
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")


class ObservedFilter:
    """Restricts ground truth to what the agent could know from the observations seen so far.

    - exits and room connections: once the rooms involved have been visited (exits are described
      on arrival; a neighbour's name is only learnt by going there);
    - (x, "is", state): once x is named in a sentence that states it ("open", "closed"/"unlock",
      "locked"); merely seeing a locker does not tell that it is locked;
    - any other triple: once its subject and its object (unless the inventory or a visited room)
      have been named in some observation.
    Names are matched as whole words, longest first, so "table" is not found in "patio table".
    Call ``see(observation, facts)`` for every step in order, then ``restrict(triples)``.
    """

    def __init__(self) -> None:
        self.visited: set[str] = set()
        self._sentences: list[str] = []
        self._names: set[str] = set()        # every entity name the game's facts have used
        self._scanned = 0                    # sentences already scanned for the current names
        self._mentioned: set[str] = set()
        self._stated: set[tuple[str, str]] = set()

    def see(self, observation: str, facts: Iterable = ()) -> None:
        text = " ".join(observation.lower().split("\n"))
        self._sentences.extend(filter(None, (" ".join(p.split()) for p in _SENTENCE_END.split(text))))
        facts = tuple(facts)
        for fact in facts:
            if fact.name == "at" and fact.arguments[0].type == "P":
                self.visited.add(entity_name(fact.arguments[1].name))
        names = {n for t in ground_truth_triples(facts) for n in (t[0], t[2])} - set(STATES) - \
            set(DIRECTIONS) - {INVENTORY}
        if not names <= self._names:  # new names: earlier sentences may mention them
            self._names |= names
            self._scanned, self._mentioned, self._stated = 0, set(), set()

    def _scan(self) -> None:
        longest_first = sorted(self._names, key=lambda n: (-len(n), n))
        for sentence in self._sentences[self._scanned:]:
            found = []
            for name in longest_first:
                pattern = r"(?<![a-z0-9])" + re.escape(name) + r"(?![a-z0-9])"
                sentence, hits = re.subn(pattern, "#", sentence)
                if hits:
                    found.append(name)
            self._mentioned.update(found)
            for state, cue in _STATE_CUES.items():
                if cue.search(sentence):
                    self._stated.update((name, state) for name in found)
        self._scanned = len(self._sentences)

    def restrict(self, triples: Iterable[Triple]) -> list[Triple]:
        self._scan()
        known = self._mentioned | self.visited
        kept = []
        for subject, relation, obj in triples:
            if relation == EXIT:
                ok = subject in self.visited
            elif connection_direction(relation) is not None:
                ok = subject in self.visited and obj in self.visited
            elif relation == "is":
                ok = (subject, obj) in self._stated
            else:
                ok = subject in self._mentioned and (obj == INVENTORY or obj in known)
            if ok:
                kept.append((subject, relation, obj))
        return kept


@dataclass(frozen=True)
class TripleScores:
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    truth: int


def score_triples(predicted: Iterable[Triple], truth: Iterable[Triple]) -> TripleScores:
    """Set precision/recall/F1 of a memory's triples against ground truth, names canonicalised.

    Empty against empty counts as perfect: nothing to know and nothing claimed.
    """
    def canon(triples):
        return {(entity_name(s), " ".join(r.lower().split()), entity_name(o)) for s, r, o in triples}
    pred, gold = canon(predicted), canon(truth)
    hits = len(pred & gold)
    precision = hits / len(pred) if pred else float(not gold)
    recall = hits / len(gold) if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return TripleScores(precision, recall, f1, hits, len(pred), len(gold))
