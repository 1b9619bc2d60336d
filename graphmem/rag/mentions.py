"""Which entities each passage mentions, and the reverse, for the corpus graph.

A passage mentions its title's entity, the subjects and objects of its triples, and every other
passage's title that occurs in its text. The last kind links a passage to the passage about an
entity it names, which is how multi-hop questions chain (the bridge entity of hop 1 is usually the
title of hop 2). Text mentions are found by whole-token matching, in both directions when passages
arrive: new passages are scanned for known titles, and earlier passages that contain a new title
are found through a token -> passages posting list, so nothing is rescanned in bulk.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..normalize import canonical_entity

_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
MAX_TITLE_TOKENS = 8
TITLE, FACT, TEXT = "title", "fact", "text"


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


def title_entity(title: str) -> str:
    """'Lilu (mythology)' -> 'lilu': the disambiguating parenthesis is not how texts name it."""
    return " ".join(match_tokens(_PAREN.sub("", title)))


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
    def __init__(self, link_titles: bool = True, min_title_chars: int = 3, title_aliases: bool = True):
        self.link_titles = link_titles
        self.title_aliases = title_aliases
        self.min_title_chars = min_title_chars
        self.kinds: dict[str, dict[str, str]] = {}     # passage -> {entity: how it is mentioned}
        self.passages_of: dict[str, set[str]] = {}     # entity -> passages mentioning it
        self._title_of: dict[str, list[str]] = {}      # passage -> its title entities
        self._title_count: dict[str, int] = {}         # title entity -> live passages with it
        self._tokens: dict[str, list[str]] = {}        # passage -> match tokens of its text
        self._postings: dict[str, set[str]] = {}       # token -> passages whose text has it

    def __len__(self) -> int:
        return len(self.kinds)

    def __contains__(self, pid: str) -> bool:
        return pid in self.kinds

    def names(self, pid: str) -> list[str]:
        return list(self.kinds.get(pid, ()))

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
        batch, new_titles = [], []
        for pid, title, fact_names, text in entries:
            self.kinds[pid] = {}
            names = title_names(title) if self.title_aliases else [title_entity(title)] if title else []
            if names:
                self._title_of[pid] = names
            for name in names:
                self._title_count[name] = self._title_count.get(name, 0) + 1
                if self._title_count[name] == 1:
                    new_titles.append(name)
                self._link(pid, name, TITLE, new)
            for fact_name in fact_names:
                self._link(pid, fact_name, FACT, new)
            tokens = match_tokens(text) if self.link_titles else []
            self._tokens[pid] = tokens
            for tok in set(tokens):
                self._postings.setdefault(tok, set()).add(pid)
            batch.append(pid)
        if self.link_titles:
            self._link_text_mentions(batch, new_titles, new)
        return new

    def _titles(self) -> dict[str, str]:
        return {t: t for t, n in self._title_count.items() if n > 0 and len(t) >= self.min_title_chars}

    def _link_text_mentions(self, batch: list[str], new_titles: list[str], new: list[str]) -> None:
        titles = self._titles()
        for pid in batch:
            for name in find_names(self._tokens[pid], titles, MAX_TITLE_TOKENS):
                self._link(pid, name, TEXT, new)
        in_batch = set(batch)
        for name in new_titles:
            if name not in titles:
                continue
            toks = name.split()
            holders = set.intersection(*(self._postings.get(t, set()) for t in toks)) - in_batch
            for pid in sorted(holders):
                if name in find_names(self._tokens[pid], {name: name}, len(toks)):
                    self._link(pid, name, TEXT, new)

    def remove(self, pid: str) -> list[str]:
        """Forget a passage; returns the entities no passage mentions any more (sorted)."""
        if pid not in self.kinds:
            return []
        touched = set(self.kinds.pop(pid))
        for name in touched:
            self.passages_of[name].discard(pid)
        for title in self._title_of.pop(pid, ()):
            self._title_count[title] -= 1
            if self._title_count[title] == 0:
                del self._title_count[title]
                # Nothing is about this title any more: text mentions of it stop linking.
                for other in sorted(self.passages_of.get(title, ())):
                    if self.kinds[other].get(title) == TEXT:
                        del self.kinds[other][title]
                        self.passages_of[title].discard(other)
                touched.add(title)
        for tok in set(self._tokens.pop(pid, ())):
            self._postings[tok].discard(pid)
        orphans = sorted(n for n in touched if n in self.passages_of and not self.passages_of[n])
        for name in orphans:
            del self.passages_of[name]
        return orphans
