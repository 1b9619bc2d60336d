"""Passage retrieval for multi-hop QA: dense and BM25 baselines and the corpus graph (PPR)."""
from .base import PassageLike, PassageRetriever, top_k
from .bm25 import BM25Retriever, tokenize
from .dense import DenseRetriever

__all__ = ["BM25Retriever", "DenseRetriever", "PassageLike", "PassageRetriever", "tokenize", "top_k"]
