"""Reading facts off spaCy's dependency parse of plain prose: names with their modifiers,
copulas ("X is Y"), subject-verb-object and verb-preposition facts ("Marie Curie was born in
Warsaw" -> marie curie / born in / warsaw), passives with "by", participle modifiers.

Which words are states, which nouns are never things and which names are only pronouns come from
the domain profile; the game's own sentences (the player's actions, what is where in a room) are
read on top of this in ``scene.py``. Anything unclear yields nothing: no triple beats a junk triple.
"""
from __future__ import annotations

from typing import Iterator

from ..normalize import canonical_entity
from ..profiles import DomainProfile
from .base import MAX_NAME_WORDS, RawTriple

# Lemmas spelled like another verb's past tense: "founded" -> "found" reads as "find", so such a
# verb keeps the form the text gave it.
AMBIGUOUS_LEMMAS = frozenset({"found", "ground", "wound", "bound", "fell", "lay", "saw"})
NAME_DEPS = {"compound", "amod", "nummod", "flat", "nmod", "npadvmod", "poss", "case"}
LIST_DEPS = {"conj", "appos"}


class Reader:
    """Reads one parsed text; ``room`` is the observation's heading, when it has one."""

    def __init__(self, doc, room: str | None, profile: DomainProfile):
        self.doc = doc
        self.room = room
        self.words = profile.vocabulary
        self.ignored_names = profile.ignored_names  # pronouns: they name nothing on their own
        self.out: dict[RawTriple, None] = {}
        self.topic: str | None = None  # what "he/she/it" most likely refers to in prose

    def add(self, s: str | None, r: str, o: str | None) -> bool:
        if not s or not o or s == o:
            return False
        if len(s.split()) > MAX_NAME_WORDS or len(o.split()) > MAX_NAME_WORDS:
            return False
        self.out[(s, r, o)] = None
        return True

    def triples(self) -> list[RawTriple]:
        for sent in self.doc.sents:
            if sent.text.strip():
                self.sentence(sent)
        return list(self.out)

    # --- names -----------------------------------------------------------------------------
    def name(self, tok) -> tuple[str | None, list[str]]:
        """Entity name for a noun token (modifiers included) and the states its adjectives give."""
        if tok.pos_ == "PRON" or tok.lower_ in self.ignored_names:
            return None, []
        keep = [tok]
        stack = [tok]
        while stack:
            t = stack.pop()
            for c in t.children:
                if c.dep_ in NAME_DEPS and c.i < tok.i or (c.dep_ in {"nummod", "flat", "compound"} and c.i > tok.i):
                    keep.append(c)
                    stack.append(c)
        # "Key 1": the parser may hang the noun off its number.
        if tok.pos_ == "NUM" and tok.i > 0 and self.doc[tok.i - 1].head == tok and self.doc[tok.i - 1].pos_ in {"NOUN", "PROPN", "ADJ"}:
            keep.append(self.doc[tok.i - 1])
        lo, hi = min(t.i for t in keep), max(t.i for t in keep)
        words = [t for t in self.doc[lo:hi + 1] if t.dep_ not in {"det", "predet"}]
        # "an ordinary looking wardrobe": how a thing looks is not part of its name.
        looks = [i for i, w in enumerate(words) if w.lemma_ == "look" and w.dep_ == "amod"]
        if looks:
            kept_states = [w for w in words[:looks[-1]] if w.lower_ in self.words.state_words]
            words = kept_states + words[looks[-1] + 1:]
        states = []
        states_of = self.words.state_words
        while words and (words[0].lower_ in states_of or words[0].lower_ in self.words.prepared_states):
            # "raw white tuna" is white tuna in the raw state, but "raw meat" is a name of its own.
            if words[0].lower_ == "raw" and len(words) < 3:
                break
            states.append(states_of.get(words[0].lower_, words[0].lower_))
            words = words[1:]
        if not words or words[-1].lower_ in self.words.not_things:
            return None, []
        # Keep the text's own joins: "frosted-glass door" stays hyphenated.
        name = canonical_entity("".join(w.text_with_ws for w in words + self.purpose(tok)))
        if not name or name in self.ignored_names or name.rsplit(" ", 1)[-1] in self.words.not_things:
            return None, []
        return name, states

    def purpose(self, tok) -> list:
        """A bare "for"/"of" complement belongs to a name: "a table for pool chemicals", "a block of
        cheese" (but not "the key of the chest": a determiner makes it a separate thing)."""
        for c in tok.children:
            if c.dep_ == "prep" and c.lower_ in {"for", "of"} and c.i == tok.i + 1:
                objs = [o for o in c.children if o.dep_ == "pobj" and o.pos_ in {"NOUN", "PROPN"}]
                if objs and not any(d.dep_ in {"det", "poss"} for d in objs[0].children):
                    return [c, *self.doc[objs[0].left_edge.i:objs[0].i + 1]]
        return []

    def things(self, tok) -> list[tuple[str, list[str]]]:
        """The named things in a list headed by ``tok`` ("a knife, a fork and a spoon")."""
        found = []
        for t in [tok, *self._list_members(tok)]:
            name, states = self.name(t)
            if name:
                found.append((name, states))
        return found

    def _list_members(self, tok) -> Iterator:
        for c in tok.children:
            if c.dep_ in LIST_DEPS:
                yield c
                yield from self._list_members(c)


    # --- sentences -------------------------------------------------------------------------
    def sentence(self, sent) -> None:
        root = sent.root
        subj = next((c for c in root.children if c.dep_ in {"nsubj", "nsubjpass", "expl"}), None)
        if root.pos_ == "ADJ" and subj is not None:
            self.copula(root.head if root.dep_ != "ROOT" else root, subj, adjective=root)
            return
        self.prose(sent)

    def copula(self, root, subj, adjective=None) -> None:
        name, _ = self.name(subj)
        adjectives = [adjective] if adjective is not None else [
            c for c in root.children if c.dep_ == "acomp" and c.pos_ == "ADJ"]
        for c in adjectives:
            self.add(name, "is", self.words.state_words.get(c.lower_, c.lower_))

    def prose(self, sent) -> None:
        """Subject-verb-object, verb-preposition, copula and passive facts in plain prose."""
        for verb in (t for t in sent if t.pos_ in {"VERB", "AUX"}):
            subj_tok = next((c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
            if subj_tok is None and verb.dep_ == "acl" and verb.head.pos_ in {"NOUN", "PROPN"}:
                subj_tok = verb.head  # "the tower, designed by Eiffel, ..."
            if subj_tok is None:
                continue
            subjects = self.subjects(subj_tok)
            if not subjects:
                continue
            for rel, obj in self.predicates(verb):
                for s in subjects:
                    self.add(s, rel, obj)

    def subjects(self, tok) -> list[str]:
        if tok.lower_ in {"he", "she", "it", "they"} and self.topic:
            return [self.topic]
        names = [n for n, _ in self.things(tok)]
        if names and self.topic is None and tok.pos_ == "PROPN":
            self.topic = names[0]
        return names

    def predicates(self, verb) -> Iterator[tuple[str, str]]:
        lemma = verb.lemma_.lower()
        particle = " ".join(c.lower_ for c in verb.children if c.dep_ == "prt")
        keep_form = verb.dep_ == "acl" or verb.tag_ == "VBN" or lemma in AMBIGUOUS_LEMMAS
        base = verb.lower_ if keep_form else lemma
        if particle:
            base = f"{base} {particle}"
        states = self.words.state_words
        if lemma == "be":
            if verb.dep_ in {"aux", "auxpass"} and verb.head.lower_ in states:
                yield "is", states[verb.head.lower_]  # parsed as "fridge <-nsubj- is -> closed"
            for c in verb.children:
                if c.dep_ == "attr":
                    for name, _ in self.things(c):
                        yield "is", self.with_of(c, name)
                elif c.dep_ == "acomp" and c.pos_ == "ADJ":
                    yield "is", c.lower_
                elif c.dep_ == "prep":
                    # "A red apple is on the table": a location, in the memory's vocabulary.
                    rel = c.lower_ if c.lower_ in {"on", "in"} else f"is {c.lower_}"
                    for obj in self.prep_objects(c):
                        yield rel, obj
            return
        if verb.pos_ == "AUX":
            return
        if verb.lower_ in states and verb.tag_ == "VBN" and not any(c.dep_ in {"dobj", "agent"} for c in verb.children):
            yield "is", states[verb.lower_]  # "The fridge is closed."
            return
        for c in verb.children:
            if c.dep_ == "dobj":
                for name, _ in self.things(c):
                    yield base, name
            elif c.dep_ in {"prep", "agent"}:
                for obj in self.prep_objects(c):
                    yield f"{base} {c.lower_}", obj

    def prep_objects(self, prep) -> Iterator[str]:
        for p in (c for c in prep.children if c.dep_ == "pobj"):
            for name, _ in self.things(p):
                yield name

    def with_of(self, tok, name: str) -> str:
        """"the capital of the country" keeps its "of" complement: the name alone says too little."""
        if " of " in name:
            return name  # the name took it already ("capital of france")
        for c in tok.children:
            if c.dep_ == "prep" and c.lower_ == "of":
                for obj in self.prep_objects(c):
                    return f"{name} of {obj}"
        return name
