"""Multi-hop QA datasets (MuSiQue, HotpotQA, 2WikiMultihopQA style) and their metrics."""
from .datasets import DatasetError, Passage, QADataset, Question, load_dataset, passage_id
from .metrics import exact_match, f1_score, normalize_answer, recall_at_k, mean_recall_at_k

__all__ = [
    "DatasetError", "Passage", "QADataset", "Question", "load_dataset", "passage_id",
    "exact_match", "f1_score", "normalize_answer", "recall_at_k", "mean_recall_at_k",
]
