"""A passage far over spaCy's comfortable length (issue 28: the fuzzer's 1M-character passage ran
past 600 s) is read whole, in bounded pieces parsed a few at a time, and its facts are placed in
it in one pass (real spaCy and sentence-transformers)."""
from __future__ import annotations

import pytest

from graphmem.extract import offline
from graphmem.memory import Memory

PARAGRAPH = ("Marta Lind founded Nordvik in 1990. The old mill stood by the river for many years, and people "
             "walked there often.\n\n")
TEXT = "Ada Stone founded Brightwater. " + PARAGRAPH * 1800 + "Olaf Berg founded Kestrel."  # ~209k characters


@pytest.mark.slow
def test_a_long_passage_is_parsed_in_pieces_a_few_at_a_time_and_read_to_its_end():
    assert len(TEXT) > 2 * offline.MAX_CHARS
    mem = Memory(None, profile="documents")
    nlp = mem.extractor.nlp
    parsed: list[tuple[list[int], int]] = []  # (piece lengths, batch size) of each pipe call
    pipe = nlp.pipe

    def spied(texts, batch_size, **kwargs):
        pieces = list(texts)
        parsed.append(([len(p) for p in pieces], batch_size))
        return pipe(pieces, batch_size=batch_size, **kwargs)

    nlp.pipe = spied
    try:
        result = mem.observe(TEXT, 0, source_id="long")
    finally:
        nlp.pipe = pipe
    (lengths, batch_size), = parsed
    assert len(lengths) >= 3 and max(lengths) <= offline.MAX_CHARS
    assert batch_size * max(lengths) <= offline.BATCH_CHARS  # at most two pieces' parses held at once
    facts = {(t.subject, t.relation, t.object) for t in mem.current()}
    assert {("ada stone", "founded", "brightwater"), ("marta lind", "founded", "nordvik"),
            ("olaf berg", "founded", "kestrel")} <= facts  # the first piece's, every piece's, the last one's
    assert result.episode.id == "long" and mem.stats()["episodes"] == 1
