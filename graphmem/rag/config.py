"""The corpus graph's retrieval settings (``CorpusGraph``), each with a help line, and named presets.

fact_top_k and passage_weight were tuned for Recall@2/@5 on the 100-question MuSiQue and HotpotQA
samples with the offline extractor (HippoRAG 2 uses 0.5 / 5 / 0.05 with LLM-extracted, LLM-filtered
facts; noisier offline facts call for fewer of them and a stronger dense prior); the rest on the
dev half only (docs/qa.md: how the settings were chosen), where damping 0.5 beat 0.3 once title
bridges and pooled fact vectors were in. Switches tried there and left off (hub edges weighted
down, a sharper or truncated dense prior, a fixed share of the seed mass on passages) were removed
with their code; docs/qa.md keeps their scores.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import NamedTuple

from ..errors import ConfigError

class Prior(NamedTuple):
    """The passage prior's settings for one corpus (``GraphRAGConfig.prior``)."""

    passage_weight: float
    lexical_weight: float
    coverage_weight: float
    sentence_weight: float
    stems: bool


# (passage weight, lexical weight, coverage weight, sentence weight) of the passage prior: tuned on
# MuSiQue's and HotpotQA's dev halves (titled) and on GraphRAG-Bench medical's and LoCoMo's dev
# questions (untitled).
TITLED_PRIOR = (0.5, 0.15, 0.0, 0.0)
UNTITLED_PRIOR = (2.0, 1.0, 0.75, 0.75)


def _setting(default, help: str):
    """A field with its help line (the command line's help is built from it)."""
    return field(default=default, metadata={"help": help})


@dataclass
class GraphRAGConfig:
    synonym_threshold: float = _setting(
        0.8, "cosine of two entity names' character trigram sets for a synonym edge, in [-1, 1]")
    synonym_top_k: int = _setting(20, "at most this many synonym edges per new entity")
    damping: float = _setting(0.5, "PageRank damping: the probability of following an edge, in (0, 1)")
    fact_top_k: int = _setting(3, "facts linked to the question: their entities seed PageRank")
    passage_weight: float | None = _setting(
        None, "weight of the passage prior (dense similarity, plus BM25) in the PageRank seeds; "
              "default: by the corpus's shape (0.5 where passages name one another's titles, 2.0 "
              "where none do)")
    lexical_weight: float | None = _setting(
        None, "weight of normalised BM25 scores in the passage prior, 0: dense only; default: by "
              "the corpus's shape (0.15 where passages name one another's titles, 1.0 where none do)")
    coverage_weight: float | None = _setting(
        None, "weight in the passage prior of the share of the question's words (IDF-weighted) a "
              "passage holds; default: by the corpus's shape (0 where passages name one another's "
              "titles, 0.75 where none do)")
    sentence_weight: float | None = _setting(
        None, "weight in the passage prior of the share of the question's words (IDF-weighted) the "
              "passage's best sentence holds, so words found together count more than words scattered "
              "over a long passage; default: by the corpus's shape (0 where passages name one "
              "another's titles, 0.75 where none do)")
    titled_share: float = _setting(
        0.2, "share of passages naming another passage's title from which a corpus counts as "
             "wholly titled (Wikipedia-shaped); below it the prior weights move towards the "
             "untitled ones in proportion")
    lexical_stems: bool | None = _setting(
        None, "BM25 compares words' Porter stems ('researching' meets 'research'); default: stems "
              "unless the corpus is wholly titled (Wikipedia-shaped)")
    title_entities: bool = _setting(True, "a passage's title is an entity the passage mentions")
    link_titles: bool = _setting(True, "any other passage's title named in a text is an entity it mentions")
    title_aliases: bool = _setting(True, "'West Chicago, Illinois' is also named 'West Chicago'")
    link_names: bool = _setting(True, "proper names among facts' entities link the texts that name them")
    short_names: bool = _setting(
        True, "a one-word proper name is linked to the one longer proper name it begins or ends "
              "('Marta' and 'Marta Quill')")
    name_match: bool = _setting(True, "entities whose name occurs in the question are seeds too")
    bridge_weight: float = _setting(
        0.2, "bonus of a passage whose title one of the top passages names, times that passage's "
             "score; 0: off")
    bridge_top: int = _setting(3, "the top passages after PageRank that the bridges start from")
    name_bridge_weight: float = _setting(
        0.15, "bonus shared by the passages that name a proper name one of the top passages names, "
              "when no passage is about it; 0: off")
    name_bridge_max: int = _setting(
        10, "names in more passages than this get no proper-name bridge")
    neighbour_weight: float = _setting(
        0.5, "share of the better of its two neighbours' scores a conversation's turn gains, its neighbours "
             "being the turns just before and after it in its session (a document's chunks have none: each "
             "stands alone); 0: off")
    speaker_weight: float = _setting(
        0.3, "share of its score a conversation's turn gains when said by the one speaker the "
             "question names (a question about one person is answered from their own turns: 641 of "
             "682 such questions in categories 1-4 of LoCoMo's dev conversations); 0: off")
    section_weight: float = _setting(
        1.0, "weight of the links of a section's node (shared by its chunks, linked to the section "
             "above it and to its document's node) beside a mention's 1; a section gets a node where "
             "two or more chunks lie in or under it, but not all of its document's; 0: no section nodes")
    corroboration: float = _setting(
        0.0, "a fact stated by passages of two or more documents (or titles) seeds PageRank up to "
             "1 + this times as strongly as one a single source states (the other sources counted "
             "by their trust); 0: off (0.5 left MuSiQue's clean recall and the poisoning benchmark "
             "as they were: docs/qa.md#poisoning)")
    ppr_tol: float = _setting(1e-8, "PageRank stops when an iteration moves the scores by less")
    ppr_max_iter: int = _setting(100, "PageRank stops after this many iterations")

    def __post_init__(self) -> None:
        if not 0.0 < self.damping < 1.0:
            raise ConfigError(f"damping must be in (0, 1), got {self.damping}")
        if not -1.0 <= self.synonym_threshold <= 1.0:
            raise ConfigError(f"synonym_threshold is a cosine in [-1, 1], got {self.synonym_threshold}")
        if min(self.fact_top_k, self.passage_weight or 0, self.lexical_weight or 0, self.coverage_weight or 0,
               self.sentence_weight or 0, self.bridge_weight, self.bridge_top, self.name_bridge_weight,
               self.name_bridge_max, self.neighbour_weight, self.speaker_weight, self.section_weight,
               self.corroboration) < 0:
            raise ConfigError("fact_top_k, passage_weight, lexical_weight, coverage_weight, sentence_weight, "
                              "bridge_weight, bridge_top, name_bridge_weight, name_bridge_max, "
                              "neighbour_weight, speaker_weight, section_weight and corroboration must "
                              "not be negative")
        if not 0.0 < self.titled_share <= 1.0:
            raise ConfigError(f"titled_share is a share in (0, 1], got {self.titled_share}")

    def prior(self, title_share: float) -> Prior:
        """The passage prior for a corpus in which ``title_share`` of the passages name another
        passage's title; a setting given explicitly holds as given.

        Where passages are about named things and name one another (Wikipedia), the graph's title
        and name links carry multi-hop questions and a light prior leaves them room; where nothing
        is titled (chunks of one guide, a conversation's turns) the graph's entities are common
        nouns, and the words a question shares with a passage say more, stems included: short
        texts rarely repeat a word's form (docs/qa.md: the sweep)."""
        titled = min(1.0, title_share / self.titled_share)
        passage, lexical, coverage, sentence = (titled * a + (1.0 - titled) * b
                                                for a, b in zip(TITLED_PRIOR, UNTITLED_PRIOR))
        return Prior(passage if self.passage_weight is None else self.passage_weight,
                     lexical if self.lexical_weight is None else self.lexical_weight,
                     coverage if self.coverage_weight is None else self.coverage_weight,
                     sentence if self.sentence_weight is None else self.sentence_weight,
                     titled < 1.0 if self.lexical_stems is None else self.lexical_stems)

    @classmethod
    def preset(cls, name: str) -> GraphRAGConfig:
        """The settings called ``name`` (``PRESETS``)."""
        try:
            _, changes = PRESETS[name]
        except KeyError:
            raise ConfigError(f"unknown retrieval preset {name!r}; choose from {', '.join(PRESETS)}") from None
        return replace(cls(), **changes)

    @classmethod
    def help(cls, name: str) -> str:
        """The help line of the setting ``name``."""
        return next(f.metadata["help"] for f in fields(cls) if f.name == name)


# name -> (what it is for, the settings it changes from the defaults)
PRESETS: dict[str, tuple[str, dict]] = {
    "default": ("the tuned settings", {}),
    "no-bridges": ("PageRank's ranking alone: no title or proper-name bridge after it",
                   {"bridge_weight": 0.0, "name_bridge_weight": 0.0}),
    "hipporag2": ("HippoRAG 2's published weights (damping 0.5, 5 facts, passage weight 0.05) on "
                  "passages linked to their facts' entities only: no titles, BM25 or word coverage, "
                  "question names or bridges",
                  {"fact_top_k": 5, "passage_weight": 0.05, "lexical_weight": 0.0, "coverage_weight": 0.0,
                   "sentence_weight": 0.0,
                   "title_entities": False, "link_titles": False, "title_aliases": False,
                   "link_names": False, "name_match": False, "bridge_weight": 0.0,
                   "name_bridge_weight": 0.0}),
}
