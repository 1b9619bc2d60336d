"""Offline triple extraction with spaCy's dependency parse (no LLM).

A text goes through four readers, each with one job: its room heading (``-= Kitchen =-``) and
command echoes are taken off here; written lists ("Ingredients:", ``lists.py``) and whole-sentence
forms the small parser misreads (``patterns.py``) are read before parsing; the parse is read for
the game's scenes and the player's actions (``scene.py``) and for plain prose (``reader.py``).
The words they go by are the domain profile's vocabulary: a game's flavour nouns are never things
in a game, and they are names in documents. Anything unclear yields nothing: no triple beats a
junk triple.
"""
from __future__ import annotations

import re
import threading
from typing import Iterable, Sequence

from ..model import Triple
from ..normalize import canonical_entity
from ..profiles import TEXT_GAME, DomainProfile
from ..spatial import HEADING
from .base import RawTriple, split_text
from .lists import split_lists
from .patterns import split_forms
from .scene import SceneReader
from .spacy_pipeline import DEFAULT_MODEL, load_pipeline

MAX_CHARS = 100_000  # parsed in pieces of at most this many characters (spaCy needs ~1 GB per 100k)
BATCH_CHARS = 200_000  # a parse batch holds about this many characters at most, so long texts parse in little memory

# A transcript's echo of the player's command ("> go west"): it states nothing about the world.
COMMAND_ECHO = re.compile(r"^\s*>.*$", re.M)


def _split_heading(text: str) -> tuple[str | None, str]:
    """(room named by the last heading, text without headings and command echoes)."""
    room = None
    for m in HEADING.finditer(text):
        room = canonical_entity(m.group(1))
    return room, COMMAND_ECHO.sub("\n", HEADING.sub("\n", text)).strip()


class OfflineExtractor:
    """spaCy-based extractor reading text of the domain ``profile`` (its vocabulary).
    ``batch_size`` and ``n_process`` tune ``extract_many`` throughput."""

    name = "offline"

    def __init__(self, *, profile: DomainProfile = TEXT_GAME, model: str = DEFAULT_MODEL,
                 batch_size: int = 64):
        self.profile = profile
        self.model_name = model
        self.batch_size = batch_size
        self._nlp = None
        self._lock = threading.Lock()

    @property
    def nlp(self):
        with self._lock:
            if self._nlp is None:
                self._nlp = load_pipeline(self.model_name)
            return self._nlp

    def extract(self, text: str, context: Sequence[Triple] = ()) -> list[RawTriple]:
        return self.extract_many([text])[0]

    def extract_many(self, texts: Iterable[str], n_process: int = 1) -> list[list[RawTriple]]:
        """Extract from many texts at once (spaCy batches them); one list per text, same order."""
        vocabulary = self.profile.vocabulary
        prepared = []
        for t in texts:
            room, body = _split_heading(t or "")
            prose, listed = split_lists(body, vocabulary)
            prose, formed = split_forms(prose, room, vocabulary)
            prepared.append((room, prose, listed + formed))
        # Long texts are parsed in pieces (spaCy refuses texts over max_length) and their triples merged.
        pieces = [(i, part) for i, (_, prose, _) in enumerate(prepared) for part in split_text(prose, MAX_CHARS)]
        longest = max([1, *(len(part) for _, part in pieces)])
        docs = self.nlp.pipe((part for _, part in pieces), batch_size=max(1, min(self.batch_size, BATCH_CHARS // longest)),
                             n_process=n_process)
        out: list[dict[RawTriple, None]] = [dict.fromkeys(listed) for _, _, listed in prepared]
        for (i, _), doc in zip(pieces, docs):
            out[i].update(dict.fromkeys(SceneReader(doc, prepared[i][0], self.profile).triples()))
        return [list(triples) for triples in out]
