"""A fixed dev/test split of a questions file, so settings are tuned on one half and reported on
the other.

A question belongs to ``dev`` when the SHA-1 of its id, read as an integer, is below
``DEV_PERCENT`` modulo 100, else to ``test``. The split depends only on the id: it is the same on
every machine and run, and a question keeps its side when the file grows or is reordered.
"""
from __future__ import annotations

import dataclasses
import hashlib

SPLITS = ("all", "dev", "test")
DEV_PERCENT = 50


def split_of(question_id: str) -> str:
    digest = hashlib.sha1(str(question_id).encode("utf-8")).hexdigest()
    return "dev" if int(digest, 16) % 100 < DEV_PERCENT else "test"


def select_split(dataset, split: str):
    """``dataset`` with only the questions of ``split`` (``all`` returns it unchanged)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if split == "all":
        return dataset
    return dataclasses.replace(dataset, questions=[q for q in dataset.questions
                                                   if split_of(q.id) == split])
