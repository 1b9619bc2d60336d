"""Which entities each passage mentions, and the reverse, for the corpus graph.

A passage mentions its title's entity, the subjects and objects of its triples, and every other
passage's title that occurs in its text. The last kind links a passage to the passage about an
entity it names, which is how multi-hop questions chain (the bridge entity of hop 1 is usually the
title of hop 2). A proper name among a passage's fact entities ('Zimbabwe', 'Ford County') is
linked the same way wherever a text names it, so passages that name the same place or person meet
at its entity even when no passage is about it. Text mentions are found by whole-token matching, in
both directions when passages arrive: new passages are scanned for known names, and earlier
passages that contain a new name are found through a token -> passages posting list, so nothing is
rescanned in bulk.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..normalize import canonical_entity

_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
MAX_TITLE_TOKENS = 8
# How a passage mentions an entity: as its title, in one of its facts, or by name in its text.
TITLE, FACT, NAMED_IN_TEXT = "title", "fact", "text"


def match_tokens(text: str) -> list[str]:
    """Canonical tokens for whole-name matching: no edge punctuation, no possessive 's."""
    out = []
    for tok in canonical_entity(text).split():
        tok = tok.strip(".'-/")
        if tok.endswith("'s"):
            tok = tok[:-2]
        if tok:
            out.append(tok)
    return out


def name_key(name: str) -> str:
    """The match tokens of ``name``, joined: how names are looked up in token streams (one
    function, so registering and retracting a name always agree on its key)."""
    return " ".join(match_tokens(name))


def title_entity(title: str) -> str:
    """'Lilu (mythology)' -> 'lilu': the disambiguating parenthesis is not how texts name it."""
    return name_key(_PAREN.sub("", title))


def title_names(title: str) -> list[str]:
    """The title's entity, and for 'West Chicago, Illinois' also 'west chicago': texts name a
    place or a hotel without the region Wikipedia adds after the comma."""
    names = [title_entity(title)] if title else []
    head = _PAREN.sub("", title).split(",")[0]
    if names and head != _PAREN.sub("", title):
        short = title_entity(head)
        if short and short != names[0]:
            names.append(short)
    return [n for n in names if n]


# Words a proper name may keep in lower case ('Trinity College of Music', 'Leonardo da Vinci').
NAME_PARTICLES = {"of", "the", "and", "for", "on", "at", "in", "to", "a", "an", "de", "da", "del",
                  "di", "du", "la", "le", "van", "von", "der"}


def proper_names(names: Sequence[str], text: str) -> list[str]:
    """The fact entity ``names`` that ``text`` writes as names of their own: capitalised ('Ford
    County'; particles such as 'of' may stay lower case) where a sentence does not start, and not
    inside a longer name ('Airport' of 'Regional Airport'); at least 4 characters, no digits
    (dates and figures are not names)."""
    return [name for name in names
            if len(name) >= 4 and not any(ch.isdigit() for ch in name) and _written_as_name(name, text)]


def capitalised_names(names: Sequence[str], text: str) -> list[str]:
    """The ``names`` that ``text`` writes capitalised anywhere, a sentence's start included: a
    weaker sign of a name than ``proper_names`` gives, enough to tell 'Marta' from 'bakery'."""
    return [name for name in names if len(name) >= 3 and not any(ch.isdigit() for ch in name)
            and _written_as_name(name, text, sentence_start=True)]


def _written_as_name(name: str, text: str, sentence_start: bool = False) -> bool:
    words = name.split()
    phrase = " ".join(w if i and w in NAME_PARTICLES else w[:1].upper() + w[1:] for i, w in enumerate(words))
    start = text.find(phrase)
    while start != -1:
        if _stands_alone(text, start, start + len(phrase), sentence_start):
            return True
        start = text.find(phrase, start + 1)
    return False


def _stands_alone(text: str, start: int, end: int, sentence_start: bool = False) -> bool:
    """Whether text[start:end] is whole words, not at a sentence's start (unless
    ``sentence_start``), and no capitalised word comes right before or after it."""
    if start > 0 and text[start - 1].isalnum() or end < len(text) and text[end].isalnum():
        return False
    j = start - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    if j < 0 or text[j] in ".!?:;\"'(\n":
        if not sentence_start:
            return False
        j = start - 1  # nothing before it continues the name
    if j < start - 1 and text[j].isalpha():  # the word before: a capitalised one continues the name
        while j > 0 and text[j - 1].isalpha():
            j -= 1
        if text[j].isupper():
            return False
    k = end
    while k < len(text) and text[k] == " ":
        k += 1
    return not (k > end and k < len(text) and text[k].isupper())


def find_names(tokens: Sequence[str], names: dict[str, str], max_len: int) -> list[str]:
    """Names (keys of ``names``: token strings) occurring in ``tokens``, in text order."""
    found = []
    for i in range(len(tokens)):
        for n in range(1, min(max_len, len(tokens) - i) + 1):
            hit = names.get(" ".join(tokens[i:i + n]))
            if hit is not None:
                found.append(hit)
    return list(dict.fromkeys(found))


class MentionIndex:
    def __init__(self, link_titles: bool = True, min_title_chars: int = 3, title_aliases: bool = True,
                 link_names: bool = True):
        self.link_titles = link_titles
        self.title_aliases = title_aliases
        self.link_names = link_names and link_titles
        self.min_title_chars = min_title_chars
        self.kinds: dict[str, dict[str, str]] = {}     # passage -> {entity: how it is mentioned}
        self.passages_of: dict[str, set[str]] = {}     # entity -> passages mentioning it
        self._named_by: dict[str, list[str]] = {}      # passage -> names it makes linkable
        self._name_count: dict[str, int] = {}          # linkable name -> live passages giving it
        self._capitalised: dict[str, list[str]] = {}   # passage -> fact names it writes capitalised
        self._capitalised_count: dict[str, int] = {}   # such a name -> live passages writing it so
        self._by_key: dict[str, str] = {}              # match tokens -> linkable name
        self._tokens: dict[str, list[str]] = {}        # passage -> match tokens of its text
        self._postings: dict[str, set[str]] = {}       # token -> passages whose text has it

    def __len__(self) -> int:
        return len(self.kinds)

    def __contains__(self, pid: str) -> bool:
        return pid in self.kinds

    def names(self, pid: str) -> list[str]:
        return list(self.kinds.get(pid, ()))

    def is_proper_name(self, name: str) -> bool:
        """Whether ``name`` is linked wherever a text names it (a title, or a proper name of a
        live passage's fact)."""
        return name in self._name_count

    def capitalised_name_list(self) -> list[str]:
        """Every title, and every fact entity some text writes capitalised (a sentence's start
        included), sorted."""
        return sorted(set(self._name_count) | set(self._capitalised_count))

    def _link(self, pid: str, name: str, kind: str, new: list[str]) -> None:
        if name in self.kinds[pid]:
            return
        self.kinds[pid][name] = kind
        holders = self.passages_of.get(name)
        if holders is None:
            holders = self.passages_of[name] = set()
            new.append(name)
        holders.add(pid)

    def add(self, entries: Iterable[tuple[str, str, Sequence[str], str]]) -> list[str]:
        """Register passages as (id, title, fact entity names, text); returns new entity names."""
        new: list[str] = []
        batch, new_keys = [], []  # match tokens of names that became linkable
        for pid, title, fact_names, text in entries:
            self.kinds[pid] = {}
            titles = title_names(title) if self.title_aliases else [title_entity(title)] if title else []
            for name in titles:
                self._link(pid, name, TITLE, new)
            for fact_name in fact_names:
                self._link(pid, fact_name, FACT, new)
            linkable = titles + (proper_names(fact_names, text) if self.link_names else [])
            capitalised = capitalised_names(fact_names, text)
            if capitalised:
                self._capitalised[pid] = capitalised
                for name in capitalised:
                    self._capitalised_count[name] = self._capitalised_count.get(name, 0) + 1
            if linkable:
                self._named_by[pid] = linkable
            for name in linkable:
                self._name_count[name] = self._name_count.get(name, 0) + 1
                if self._name_count[name] == 1 and len(name) >= self.min_title_chars:
                    key = name_key(name)
                    if key and self._by_key.setdefault(key, name) == name:
                        new_keys.append(key)
            tokens = match_tokens(text) if self.link_titles else []
            self._tokens[pid] = tokens
            for tok in set(tokens):
                self._postings.setdefault(tok, set()).add(pid)
            batch.append(pid)
        if self.link_titles:
            self._link_text_mentions(batch, new_keys, new)
        return new

    def _link_text_mentions(self, batch: list[str], new_keys: list[str], new: list[str]) -> None:
        for pid in batch:
            for name in find_names(self._tokens[pid], self._by_key, MAX_TITLE_TOKENS):
                self._link(pid, name, NAMED_IN_TEXT, new)
        in_batch = set(batch)
        for key in new_keys:
            name, toks = self._by_key[key], key.split()
            holders = set.intersection(*(self._postings.get(t, set()) for t in toks)) - in_batch
            for pid in sorted(holders):
                if name in find_names(self._tokens[pid], {key: name}, len(toks)):
                    self._link(pid, name, NAMED_IN_TEXT, new)

    def remove(self, pid: str) -> list[str]:
        """Forget a passage; returns the entities no passage mentions any more (sorted)."""
        if pid not in self.kinds:
            return []
        touched = set(self.kinds.pop(pid))
        for name in touched:
            self.passages_of[name].discard(pid)
        for name in self._named_by.pop(pid, ()):
            self._name_count[name] -= 1
            if self._name_count[name] == 0:
                del self._name_count[name]
                key = name_key(name)
                if self._by_key.get(key) == name:
                    del self._by_key[key]
                # No passage is about this name or names it in a fact any more: text mentions of
                # it stop linking.
                for other in sorted(self.passages_of.get(name, ())):
                    if self.kinds[other].get(name) == NAMED_IN_TEXT:
                        del self.kinds[other][name]
                        self.passages_of[name].discard(other)
                touched.add(name)
        for name in self._capitalised.pop(pid, ()):
            self._capitalised_count[name] -= 1
            if self._capitalised_count[name] == 0:
                del self._capitalised_count[name]
        for tok in set(self._tokens.pop(pid, ())):
            self._postings[tok].discard(pid)
        orphans = sorted(n for n in touched if n in self.passages_of and not self.passages_of[n])
        for name in orphans:
            del self.passages_of[name]
        return orphans
