"""Section nodes of the corpus graph, on a small folder of Markdown files read by the one corpus
reader, with real spaCy and the real embedder: which sections get a node and what it links, the
spread of a question's match over its section, and nodes that follow edits and forgetting."""
from pathlib import Path

import pytest

from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.corpus import Corpus, Passage, read_corpus
from graphmem.documents import ChunkSizes
from graphmem.extract.offline import OfflineExtractor
from graphmem.profiles import DOCUMENTS
from graphmem.rag.config import GraphRAGConfig
from graphmem.rag.corpus_index import CorpusIndex
from graphmem.rag.graph import CorpusGraph

pytestmark = pytest.mark.slow  # the real embedder and spaCy

SIZES = ChunkSizes(20, 100)  # one chunk per paragraph (a heading with its first paragraph)
MANUAL = """# Descaling

Vinegar dissolves the chalk on the heating element of a Varnor kettle.

Pour half a litre of water into the jug and let it stand for ten minutes.

Empty the jug and rinse it twice with fresh water before its next use.

# Storage

Keep the jug on a dry shelf, away from the window and the sink.

Citric acid from lemons also clears limescale from an electric boiler.
"""
GARDEN = """A garden diary of the Lindqvist allotment.

# Roses

Roses want sun for six hours a day.

## Pruning

Prune the roses in March above an outward bud.

Burn the pruned stems to stop black spot spreading.

## Feeding

Feed the roses with manure in April.

# Tulips

Plant tulip bulbs in November, twice as deep as the bulb is tall.
"""


@pytest.fixture(scope="module")
def extractor():
    return OfflineExtractor(profile=DOCUMENTS)


def _read(folder: Path, **files: str) -> Corpus:
    for name, text in files.items():
        (folder / f"{name}.md").write_text(text)
    return read_corpus(folder, SIZES)


def _links(graph: CorpusGraph, corpus: Corpus) -> dict[str, set[str]]:
    """Section node -> what it links, chunks named by their text's first three words."""
    words = {p.id: " ".join(p.text.split()[:3]) for p in corpus.passages}
    return {node: {words.get(other, other) for other in linked} for node, linked in graph.index.section_links().items()}


def test_chunks_of_a_section_meet_at_its_node_and_nested_sections_at_their_parent(tmp_path, extractor):
    corpus = _read(tmp_path, garden=GARDEN)
    graph = CorpusGraph(extractor=extractor)
    graph.add(corpus.passages)
    # Pruning's two chunks share its node; Feeding and Tulips hold one chunk each (no node: a
    # detour), and the preamble lies in no section. Roses holds four of the six chunks.
    assert _links(graph, corpus) == {
        "§ garden.md > Roses": {"Roses Roses want", "Feeding Feed the", "garden"},
        "§ garden.md > Roses > Pruning": {"Pruning Prune the", "Burn the pruned", "§ garden.md > Roses", "garden"},
    }
    nodes, pos, before_passages, _ = graph.index.walk()
    assert nodes[before_passages - 2:before_passages] == sorted(_links(graph, corpus))


def test_a_question_matching_one_chunk_spreads_to_its_sections_other_chunks(tmp_path, extractor):
    corpus = _read(tmp_path, manual=MANUAL)
    question = "How does vinegar help a Varnor kettle?"  # its words are in Descaling's first chunk only

    def scores(**settings) -> dict[str, float]:
        graph = CorpusGraph(extractor=extractor, config=GraphRAGConfig(**settings))
        graph.add(corpus.passages)
        return dict(graph.retrieve(question, len(corpus.passages)))

    with_sections, without = scores(), scores(section_weight=0.0)
    gain = {p.id: with_sections[p.id] / without[p.id] for p in corpus.passages}
    first, *descaling = [p.id for p in corpus.passages if p.meta["section"] == "Descaling"]
    storage = [p.id for p in corpus.passages if p.meta["section"] == "Storage"]
    # Scores are relative to the best chunk's: the section's node keeps more of the walk in the
    # section the question matched, and the other section's chunks get less of it.
    assert min(gain[pid] for pid in descaling) > max(gain[pid] for pid in storage)
    assert max(gain[pid] for pid in storage) < 0.95


def test_section_nodes_follow_a_changed_file_and_a_forgotten_document(tmp_path, extractor):
    corpus = _read(tmp_path, garden=GARDEN, manual=MANUAL)
    graph = CorpusGraph(extractor=extractor)
    graph.add(corpus.passages)
    assert len(graph.index.section_links()) == 4
    # Pruning renamed: its heading's chunk is new, the other one moves to the renamed section.
    renamed = _read(tmp_path, garden=GARDEN.replace("## Pruning", "## Cutting back"))
    graph.add(renamed.passages)
    stale, moved = graph.refresh_documents(renamed)
    assert (len(stale), moved) == (1, 1)
    assert _links(graph, renamed)["§ garden.md > Roses > Cutting back"] == {
        "Cutting back Prune", "Burn the pruned", "§ garden.md > Roses", "garden"}
    assert "§ garden.md > Roses > Pruning" not in graph.index.section_links()
    # The section is cut: Roses keeps two chunks and its node, the renamed section's node goes.
    edited = _read(tmp_path, garden=GARDEN[:GARDEN.index("## Pruning")] + GARDEN[GARDEN.index("## Feeding"):])
    graph.add(edited.passages)
    stale, _ = graph.refresh_documents(edited)
    assert len(stale) == 2
    assert _links(graph, edited)["§ garden.md > Roses"] == {"Roses Roses want", "Feeding Feed the", "garden"}
    assert sorted(graph.index.section_links()) == ["§ garden.md > Roses", "§ manual.md > Descaling",
                                                  "§ manual.md > Storage"]
    graph.remove([p.id for p in edited.passages if p.meta["document"] == "manual.md"])
    assert sorted(graph.index.section_links()) == ["§ garden.md > Roses"]
    # What the write events kept is what a reload of the store derives.
    assert CorpusIndex(graph.store, graph.config).section_links() == graph.index.section_links()


def test_a_corpus_without_sections_walks_as_before():
    """Wikipedia paragraphs, a conversation's turns, chunks with no heading above them: no section
    node, so the walk and the ranking are what they were with section nodes off."""
    passages = [Passage("w", "Ulm", "Ulm lies on the Danube."), Passage("x", "Basel", "Basel lies on the Rhine."),
                *(Passage(f"c{i}", "notes", text, {"document": "notes.md", "section": "", "position": str(i)})
                  for i, text in enumerate(["Ulm is in Germany.", "Basel is in Switzerland.", "Both are old towns."]))]
    rankings = []
    for weight in (1.0, 0.0):
        graph = CorpusGraph(extractor=ScriptedExtractor({}), embedder=HashingEmbedder(),
                            config=GraphRAGConfig(section_weight=weight))
        graph.add(passages)
        nodes, _, before_passages, _ = graph.index.walk()
        assert nodes[:before_passages] == graph.entities()
        rankings.append(graph.retrieve("Which river is Ulm on?", 5))
    assert rankings[0] == rankings[1]
