"""Reading a text game's own sentences off the parse: room headings' exits, things seen in a room
or on/in another thing, open/closed/locked states, inventory, and the player's own actions (take,
drop, put, open, close, unlock, lock, eat, slice...).

The words these go by (verbs of perceiving, the player's actions, the places that stand for the
room) are the profile's vocabulary; the rest of a sentence is read as prose (``reader.py``).
"""
from __future__ import annotations

import functools
import re

from ..normalize import canonical_entity
from ..profiles import DIRECTIONS
from .reader import Reader

# Where a thing seen in a room can sit in a parse (checked further in ``SceneReader.scene``).
MENTION_DEPS = {"dobj", "ccomp", "attr", "nsubj", "nsubjpass", "pobj", "conj", "appos", "oprd", "ROOT",
                "npadvmod"}
# Prepositions whose object a perceiving (or stumbling) verb reaches: the thing is there.
CONTACT_PREPOSITIONS = {"to", "than", "onto", "into", "over", "upon"}


@functools.lru_cache(maxsize=8)
def exit_phrase(exit_words: frozenset[str]) -> re.Pattern:
    """A direction named as a way out: "exit to the north", "going west", "leading south"."""
    return re.compile(rf"\b(?:{'|'.join(sorted(exit_words))})\b"
                      rf"(?:\s+(?:to|towards?|of)\s+(?:the\s+)?|\s+)({'|'.join(DIRECTIONS)})\b", re.I)


def _perceiver(tok, perceive: frozenset[str], hops: int = 4) -> bool:
    """Whether the nearest verb above ``tok`` is one of perceiving ("follow it to a locker")."""
    for _ in range(hops):
        if tok.head.i == tok.i:
            return False
        tok = tok.head
        if tok.pos_ in {"VERB", "AUX"}:
            return tok.lemma_.lower() in perceive
    return False


def _unreal(tok) -> bool:
    """Whether ``tok`` is an object of a negated verb or lies in an if-clause."""
    if tok.dep_ in {"attr", "dobj"} and any(c.dep_ == "neg" for c in tok.head.children):
        return True
    while tok.head.i != tok.i:
        tok = tok.head
        if any(c.dep_ == "mark" and c.lower_ in {"if", "unless"} for c in tok.children):
            return True
    return False


class SceneReader(Reader):
    """Reads a game observation: its scene and the player's actions first, the rest as prose."""

    pointing = False  # the last sentence pointed at something it did not name: "Look over there!"

    def sentence(self, sent) -> None:
        pointed, self.pointing = self.pointing, False
        if pointed and self.pointed_at(sent):
            return
        for m in exit_phrase(self.words.exit_words).finditer(sent.text):
            self.add(self.room, "has exit", m.group(1).lower())
        root = sent.root
        subj = next((c for c in root.children if c.dep_ in {"nsubj", "nsubjpass", "expl"}), None)
        # The player's actions: "You take the key", and narrated ones: "Adding the meal to your inventory".
        actor = subj.lower_ == "you" if subj is not None else root.tag_ == "VBG"
        if actor and self.action(root, sent):
            return
        if self.fronted_place(sent) or self.scene(root, subj, sent):
            return
        super().sentence(sent)

    def place(self, prep) -> tuple[str | None, str | None]:
        """(relation, place) for a preposition like "on the table"; the room for floor/corner."""
        objs = [c for c in prep.children if c.dep_ == "pobj"]
        if not objs:
            return None, None
        word = prep.lower_
        if word == "to" and objs[0].lower_ == "inventory":
            return "in", "inventory"
        rel = "on" if word in {"on", "onto", "upon"} else "in" if word in {"in", "inside", "into", "within"} else None
        if rel is None:
            return None, None
        if objs[0].lower_ in self.words.room_places:
            return "in", self.room
        name, _ = self.name(objs[0])
        return rel, name

    def action(self, root, sent) -> bool:
        """The player's own actions and inventory ("You take the key from the chest")."""
        verb = root.lemma_.lower()
        objs = [t for c in root.children if c.dep_ in {"dobj", "attr", "oprd"} for t in [c]]
        if verb == "carry":
            # Inventory lists parse badly ("a Key 1, a Note 2 and ..."); read the list itself.
            listed = re.split(r"\bcarrying\b:?", sent.text, maxsplit=1)[-1]
            for item in re.split(r",|\band\b|\n", listed):
                name = canonical_entity(item)
                if name and name not in {"nothing", "anything"}:
                    self.add(name, "in", "inventory")
            return True
        if not objs:
            return False
        items = [name for tok in objs for name, _ in self.things(tok)]
        words = self.words
        if verb in words.take:
            for name in items:
                self.add(name, "in", "inventory")
            return True
        if verb in words.drop:
            for name in items:
                self.add(name, "in", self.room)
            return True
        if verb in words.put:
            places = [self.place(c) for c in root.children if c.dep_ == "prep"]
            if not any(rel for rel, _ in places):
                # The parser may hang the place off the thing: "put the 24l of oak | in the box".
                places = [self.place(t) for o in objs for t in o.subtree if t.dep_ == "prep" and t.head.i > o.i]
            for rel, where in places:
                for name in items:
                    if rel:
                        self.add(name, rel, where)
            return True
        if verb in words.opening:
            for name in items[:1]:
                self.add(name, "is", words.opening[verb])
                # "You open the chest, revealing a key and a note."
                for t in sent:
                    if t.lemma_.lower() == "reveal":
                        for d in (c for c in t.children if c.dep_ == "dobj"):
                            for inner, _ in self.things(d):
                                self.add(inner, "in", name)
            return True
        if verb in words.used_up:
            for name in items[:1]:
                self.add(name, "is", words.used_up[verb])  # the judge retires where it was
            return True
        if verb in words.preparing:
            for name in items[:1]:
                self.add(name, "is", words.preparing[verb])
            return True
        return False

    def fronted_place(self, sent) -> bool:
        """"On the sink you can see a deodorant": the parser sometimes makes the place the root."""
        first = next((t for t in sent if not t.is_space), None)
        rel = {"on": "on", "upon": "on", "in": "in", "inside": "in"}.get(first.lower_ if first else "")
        you = next((t for t in sent if t.lower_ == "you" and t.dep_ == "nsubj"), None)
        if rel is None or first is None or you is None or you.head.lemma_.lower() not in self.words.perceive:
            return False
        place = canonical_entity(self.doc[first.i + 1:you.i].text)
        if not place or place.rsplit(" ", 1)[-1] in self.words.not_things:
            return False
        # The list of things seen parses badly too ("a toothbrush, a <-npadvmod- centerpiece, ..."):
        # take every noun after the verb that heads a list item.
        for t in sent[you.head.i + 1 - sent.start:]:
            if t.dep_ in {"dobj", "npadvmod", "conj", "appos"} and t.pos_ in {"NOUN", "PROPN", "NUM"}:
                name, states = self.name(t)
                self.add(name, rel, place)
                for s in states:
                    self.add(name, "is", s)
        return True

    def pointed_at(self, sent) -> bool:
        """"Look over there! A stove.": a bare noun phrase after a pointing sentence is in the room."""
        root = sent.root
        if root.pos_ not in {"NOUN", "PROPN"} or any(t.pos_ in {"VERB", "AUX"} for t in sent) \
                or not any(c.dep_ == "det" and c.lower_ in {"a", "an", "some"} for c in root.children):
            return False
        placed = [self.seen(name, states, "in", self.room) for name, states in self.things(root)]
        return any(placed)

    def seen(self, name: str | None, states: list[str], rel: str, where: str | None) -> bool:
        """Places a thing seen (``name`` ``rel`` ``where``) and, once placed, gives its states."""
        if not self.add(name, rel, where):
            return False
        for s in states:
            self.add(name, "is", s)
        return True

    def scene(self, root, subj, sent) -> bool:
        """What is where in the current room. True when the sentence was understood."""
        verb = root.lemma_.lower()
        # "You smell a smell and follow it to a locker", "the wall opens up to reveal a stove": any
        # perceiving verb of the sentence's main clause counts.
        verbs = {verb} | {c.lemma_.lower() for c in root.children if c.dep_ in {"conj", "xcomp"} and c.pos_ == "VERB"}
        perceived = bool(verbs & self.words.perceive)
        # "The fridge contains a key[, so there's that]": the holding verb may hang below the root.
        holder = next((v for v in (root, *root.children)
                       if v.lemma_.lower() in {"contain", "hold", "carry"} or v.i == root.i and verb == "have"), None)
        holder_subj = None if holder is None else next((c for c in holder.children if c.dep_ == "nsubj"), None)
        if holder is not None and holder_subj and holder_subj.lower_ != "you":
            box, _ = self.name(holder_subj)
            held = "on" if holder.lemma_.lower() == "carry" else "in"
            for c in (c for c in holder.children if c.dep_ == "dobj"):
                for name, states in self.things(c):
                    self.add(name, held, box)
                    for s in states:
                        self.add(name, "is", s)
            return box is not None
        pointed = subj is None and verb == "look" and self.room is not None  # "Look over there, a stove."
        if not perceived or subj is None and not pointed or self.room is None and verb != "be":
            # Outside a game's room, only "X is on/in Y" and "there is X in Y" are locations; and a
            # sentence without a subject is an instruction ("Gather all ingredients..."), not a scene.
            return False
        mentioned = []
        preps = []
        for t in sent:
            # (A noun seen may be mis-parsed as a clause: "you can see a bathroom <-ccomp- sink".)
            if t.dep_ in MENTION_DEPS and t.pos_ in {"NOUN", "PROPN", "NUM"}:
                if t.dep_ in {"conj", "appos"} and t.head.pos_ not in {"NOUN", "PROPN", "NUM"}:
                    continue
                # Objects count only when perceived: "you see a key", not "you hear a noise",
                # "you take note", "you tie your shoe". Same for "follow it to / other than a locker".
                if t.dep_ in {"dobj", "ccomp", "npadvmod"} and t.head.lemma_.lower() not in self.words.perceive:
                    continue
                # "follow it to a locker", "nothing other than a locker", "fall onto / trip over a locker"
                if t.dep_ == "pobj" and not (t.head.lower_ in CONTACT_PREPOSITIONS
                                             and _perceiver(t.head, self.words.perceive)):
                    continue
                if any(c.dep_ == "det" and c.lower_ == "no" or c.dep_ == "poss" and c.lower_ in {"your", "my"}
                       for c in t.children) or _unreal(t):
                    continue  # "there is no door", "your task", "it's not every day", "if there was stuff"
                mentioned.append(t)
            elif t.dep_ == "prep":
                preps.append(t)
        if not mentioned:
            self.pointing = pointed
            return False
        rel, where = None, None
        for p in preps:
            if any(c in mentioned for c in p.children):
                continue  # "fall onto a stove": the thing seen, not where it is
            rel, where = self.place(p)
            if rel:
                break
        found = False
        seen_names = set()
        for tok in mentioned:
            # "a door leading south" is a way out, not a thing standing in the room.
            is_exit = any(c.dep_ == "acl" and c.lemma_.lower() == "lead" for c in tok.children) or \
                tok.i + 1 < len(self.doc) and tok.nbor(1).lemma_.lower() == "lead"
            for name, states in self.things(tok):
                if name in seen_names or name == self.room:
                    continue
                seen_names.add(name)
                if verb == "be" and root.i < tok.i and subj is not None and subj.dep_ != "expl" \
                        and tok.dep_ == "attr" and subj.pos_ != "PRON":
                    continue  # "The counter is a vast one": attributes are not things ("it's a key" is)
                if is_exit:
                    for s in states:
                        self.add(name, "is", s)
                    continue
                if self.seen(name, states, rel or "in", where if rel else self.room):
                    found = True
        # "The fridge is closed." / "The stove is conventional."
        if verb == "be" and subj is not None and subj.dep_ != "expl":
            self.copula(root, subj)
        return found
