"""Vector search on a Cypher server with vector indexes (FalkorDB; Neo4j 5.18+): the queries behind
``GraphStore.supports_vector_search``, written once for every such server. What differs between
servers is small and named here: how a query vector and a cosine similarity are written
(``VectorDialect``), and where each kind's vectors are kept and how its index is asked
(``VectorKind``). FalkorDB keeps them on vector nodes of their own (``falkor_layout``); Neo4j on
the triples and episodes themselves (``neo4j_vectors``).

Every similarity is a cosine in [-1, 1], converted on the server from what its index answers
(FalkorDB: a distance; Neo4j: a score in [0, 1]), so that only ids and numbers come back.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..model import ordered_unique
from .base import CypherError


@dataclass(frozen=True)
class VectorDialect:
    """How one server writes vectors in Cypher. ``query_vector``: a query vector parameter
    (``{}``) as the server compares it; ``similarity``: the cosine similarity of two vectors
    (``{a}``, ``{b}``); ``index_score``: the cosine similarity from a vector index's ``score``."""

    query_vector: str
    similarity: str
    index_score: str

    def cosine(self, a: str, b: str) -> str:
        return self.similarity.format(a=a, b=b)

    def query_vectors(self) -> str:
        """The Cypher list of the query vectors ``$qs`` as the server compares them."""
        return f"[q IN $qs | {self.query_vector.format('q')}]"

    def best_similarity(self, vector: str) -> str:
        """The Cypher expression of ``vector``'s best cosine similarity to the query vectors bound
        as ``qs`` (``query_vectors``), each computed once."""
        return (f"reduce(top = -2.0, s IN [q IN qs | {self.cosine(vector, 'q')}] | "
                "CASE WHEN s > top THEN s ELSE top END)")


@dataclass(frozen=True)
class VectorKind:
    """How one kind of vector ("triples", "episodes") is searched on one server.

    ``current``: a clause binding one row per searched vector, its id as ``id_of`` and its vector
    as ``vector_of`` say (current facts only; every episode). ``query``: the call of the index for
    the ``$k`` nearest to the query vector ``$qs[i]``, then binding ``x`` to each hit's triple or
    episode, with its id as ``hit_id`` says and its ``score``; ``searched``: a condition on ``x``
    that keeps a hit (retired facts are dropped on the server)."""

    current: str
    id_of: str
    vector_of: str
    query: str
    hit_id: str
    searched: str


def search_query(kind: VectorKind, dialect: VectorDialect) -> str:
    """Per query ``i`` of ``$qs``: how many entries the index gave (``seen``) and the searched ones
    among them (``found``: [id, cosine similarity] pairs)."""
    return (f"UNWIND range(0, size($qs) - 1) AS i {kind.query} "
            f"RETURN i, count(*) AS seen, collect(CASE WHEN {kind.searched} "
            f"THEN [{kind.hit_id}, {dialect.index_score}] ELSE null END) AS found")


def neighbour_query(dialect: VectorDialect, fact_vector: str, names: str = "UNWIND $names AS name ") -> str:
    """Recall's expansion (``ServerVectorSearch.neighbour_scores``): per entity its newest current
    facts, and past ``$limit`` those in ``$pool``, each with its best similarity to ``$qs`` where
    it is at least ``$min_score`` (those below recall drops anyway: at 1M facts, a third of the rows).
    ``fact_vector``: a clause that binds the fact ``r``'s vector as ``vec``, dropping facts
    without one; ``names``: the clauses that bind each entity to expand as ``name``."""
    # The query vectors join once the candidates are chosen: carried from the start, they were part
    # of every row's DISTINCT and grouping key (each of a hub's facts hashed them), which took half
    # the query (measured on FalkorDB at 100,000 facts: median 23.6 -> 11.4 ms, same rows).
    return (f"{names}"
            "MATCH (n:Entity {name: name})-[r:REL]-() WHERE r.valid_until IS NULL "
            "WITH DISTINCT name, r ORDER BY r.valid_from DESC, r.id DESC "
            "WITH name, collect(r) AS rs "
            f"WITH {dialect.query_vectors()} AS qs, name, rs[..$limit] + CASE "
            "WHEN size(rs) > $limit THEN [x IN rs[$limit..] WHERE x.id IN $pool] ELSE [] END AS cands "
            f"UNWIND cands AS r {fact_vector} "
            f"WITH name, r.id AS id, {dialect.best_similarity('vec')} AS score WHERE score >= $min_score "
            "RETURN name, id, score")


class ServerVectorSearch(ABC):
    """The vector search a Cypher store offers where its server has vector indexes. A store
    supplies ``_read``, its ``vector_dialect``, its kinds (``_vector_kind``), the clause that binds
    a fact's vector (``fact_vector``) and ``_has_vector_index``."""

    vector_dialect: VectorDialect
    fact_vector: str
    exact_scans = 0  # searches answered by a scan instead of the index, for measuring

    @abstractmethod
    def _read(self, query: str, doing: str, **params: Any) -> list[dict]: ...

    @abstractmethod
    def _vector_kind(self, kind: str) -> VectorKind: ...

    @abstractmethod
    def _has_vector_index(self, kind: str) -> bool:
        """Whether ``kind`` has its vector index on the server."""

    def _vector_index_ready(self, kind: str) -> bool:
        """Whether ``kind``'s vector index answers searches now, asked afresh (a server that fills
        a new index in the background refuses searches of it meanwhile)."""
        return self._has_vector_index(kind)

    def vector_search(self, kind: str, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Per query vector, the ``k`` nearest (id, cosine similarity) of ``kind`` ("triples":
        current facts only; "episodes"), best first, ties by id. Approximate: the server's index,
        asked for twice ``k`` in one round trip for all queries.

        The index also holds retired facts (the server drops them from its answer), so a query
        left with fewer than ``k`` asks again for four times as many. Where the index gave fewer
        entries than asked, it has no more, or deleted entries took their places (``falkor_layout``):
        that query is answered by an exact scan instead, so no answer is ever short.

        Where the index is not there or not ready (a bulk load dropped it; the server is filling a
        new one), every query is answered by an exact scan: slower, never wrong."""
        queries = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1).tolist()
        found: list[list[tuple[str, float]]] = [[] for _ in queries]
        if not queries or k <= 0:
            return found
        if not self._has_vector_index(kind):
            return [self._exact_search(kind, q, k) for q in queries]
        search = search_query(self._vector_kind(kind), self.vector_dialect)
        pending, fetch, asked_again = list(range(len(queries))), 2 * k, False
        while pending:
            try:
                answers = {r["i"]: r for r in self._read(search, f"searching {kind} vectors",
                                                          qs=[queries[i] for i in pending], k=fetch)}
            except CypherError:
                if not self._vector_index_ready(kind):
                    for i in pending:
                        found[i] = self._exact_search(kind, queries[i], k)
                    break
                if asked_again:
                    raise
                asked_again = True  # the server may have finished filling it since it refused
                continue
            more = []
            for at, i in enumerate(pending):
                answer = answers.get(at, {"seen": 0, "found": []})
                found[i] = [(tid, float(score)) for tid, score in answer["found"]]
                if len(found[i]) >= k:
                    continue
                if answer["seen"] < fetch:
                    found[i] = self._exact_search(kind, queries[i], k)
                else:
                    more.append(i)
            pending, fetch = more, fetch * 4
        return [sorted(f, key=lambda x: (-x[1], x[0]))[:k] for f in found]

    def _scored(self, kind: str) -> str:
        """Rows of ``id`` and ``score`` (the similarity to ``$q``) of every searched vector of ``kind``."""
        vk = self._vector_kind(kind)
        score = self.vector_dialect.cosine(vk.vector_of, self.vector_dialect.query_vector.format("$q"))
        return f"{vk.current} WITH {vk.id_of} AS id, {score} AS score"

    def _exact_search(self, kind: str, query: list[float], k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest of ``kind`` to ``query`` by a scan on the server."""
        self.exact_scans += 1
        recs = self._read(f"{self._scored(kind)} RETURN id, score ORDER BY score DESC, id LIMIT $k",
                          f"scanning {kind} vectors", q=query, k=int(k))
        return [(r["id"], float(r["score"])) for r in recs]

    def vector_scores(self, kind: str, vector: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Every searched id of ``kind`` with its cosine similarity to ``vector`` (exact, a scan on
        the server; ids only travel back)."""
        recs = self._read(f"{self._scored(kind)} RETURN id, score", f"scoring {kind} vectors",
                          q=np.asarray(vector, dtype=np.float32).tolist())
        return [r["id"] for r in recs], np.array([r["score"] for r in recs], dtype=np.float32)

    def vector_count(self, kind: str) -> int:
        """How many ids of ``kind`` are searched (current facts with a vector; episodes with one)."""
        return int(self._read(f"{self._vector_kind(kind).current} RETURN count(*) AS n",
                              f"counting {kind} vectors")[0]["n"])

    def neighbour_scores(self, entities: Sequence[str], vectors: np.ndarray, limit: int,
                         pool: Sequence[str], min_score: float = -1.0) -> dict[str, list[tuple[str, float]]]:
        """Per entity (each once, in the order asked): its candidate facts for recall's expansion,
        each with its best cosine similarity to ``vectors``, scored on the server. Candidates: its
        ``limit`` newest current facts (by valid_from, then id), and where it has more (a hub), those
        of the rest whose ids are in ``pool`` (the queries' nearest facts); those scoring below
        ``min_score`` are left on the server."""
        names = ordered_unique(entities)
        out: dict[str, list[tuple[str, float]]] = {n: [] for n in names}
        if not names:
            return out
        recs = self._read(neighbour_query(self.vector_dialect, self.fact_vector), "scoring entities' facts",
                          qs=np.asarray(vectors, dtype=np.float32).tolist(), names=names,
                          limit=int(limit), pool=list(pool), min_score=float(min_score))
        for r in recs:
            out[r["name"]].append((r["id"], float(r["score"])))
        return out
