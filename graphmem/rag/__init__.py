"""Passage retrieval for multi-hop QA: dense, BM25 and hybrid baselines and the corpus graph (PPR)."""
from .base import PassageLike, PassageRetriever, top_k
from .bm25 import BM25Retriever, tokenize
from .dense import DenseRetriever
from .hybrid import HybridRetriever, reciprocal_rank_fusion

__all__ = ["BM25Retriever", "DenseRetriever", "HybridRetriever", "PassageLike", "PassageRetriever",
           "reciprocal_rank_fusion", "tokenize", "top_k"]
