"""Make a retrieval test set from any document collection: one question per sampled chunk.

For a corpus no one has labelled (a folder of manuals, books, notes), this gives eval-qa a set it
can score: the corpus is read and chunked by graphmem's one reader (as ``graphmem build`` reads
it), ``--questions`` chunks of at least ``--min-chars`` are drawn with ``--seed``, and the LLM
writes for each a question the chunk answers. The chunk is the question's gold passage (other
chunks may answer it too: an approximate gold, the same for every retriever). Questions are kept
by fixed rules only (a question of 4 to 40 words that does not point at "the passage"), never by
how any retriever does on them, so the set stays untuned.

Written to ``--out``: ``questions.json`` (MuSiQue's shape: ``paragraphs`` holds the gold chunk,
its title and text) and ``corpus.json`` (the chunks as ``{"title", "text"}``). Score it with the
corpus as read, sections included:

    .venv/bin/python scripts/make_doc_questions.py --corpus DOCS_FOLDER --out /tmp/docs-qa
    graphmem eval-qa --data /tmp/docs-qa --corpus DOCS_FOLDER --retriever graph,bm25,hybrid,dense

Every LLM call goes through graphmem's response cache, so a second run writes the same set.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
from pathlib import Path

from tqdm import tqdm

from graphmem.corpus import load_corpus
from graphmem.errors import GraphmemError
from graphmem.llm import make_llm

SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}
SYSTEM = (
    "You write test questions for a search engine over a manual or a book. Given one passage, write "
    "one question that the passage answers, as a reader who has not seen the passage would ask it: "
    "in your own words, about one specific thing it says, never mentioning 'the passage'. Reply with "
    "JSON {\"question\": \"...\"}.")
# Small models still end questions with "in the passage": dropped, the question kept.
_IN_PASSAGE = re.compile(r",?\s+(?:(?:that is |which is |as )?(?:mentioned|described|discussed|given|shown|explained)\s+)?"
                         r"(?:in|from|according to) the (?:given |above )?(?:passage|text|excerpt)(?=\?$)", re.I)
# A question that still points at the passage cannot be asked without it.
_POINTS_AT_PASSAGE = re.compile(r"\b(passage|excerpt|this (text|section|chapter|document)|the author)\b", re.I)


def question_for(llm, text: str) -> str | None:
    """The LLM's question about ``text``, or None where the reply breaks the rules."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Passage:\n{text}"}]
    try:
        reply = llm.chat(messages, schema=SCHEMA, max_tokens=80)
    except GraphmemError as e:  # a failed call costs one question, not the run
        logging.warning("no question: %s", e)
        return None
    data = reply.data if isinstance(reply.data, dict) else {}
    question = _IN_PASSAGE.sub("", " ".join(str(data.get("question", "")).split()))
    if not question.endswith("?") or not 4 <= len(question.split()) <= 40 or _POINTS_AT_PASSAGE.search(question):
        return None
    return question


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="any corpus graphmem build reads (a folder of documents, ...)")
    ap.add_argument("--out", required=True, help="folder to write questions.json and corpus.json to")
    ap.add_argument("--questions", type=int, default=200, help="chunks to draw (default 200)")
    ap.add_argument("--min-chars", type=int, default=300, help="shortest chunk drawn (default 300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--llm", help="graphmem's --llm forms (default: graphmem's default model)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    passages = load_corpus(args.corpus)
    drawable = [p for p in passages if len(p.text) >= args.min_chars]
    if not drawable:
        sys.exit(f"{args.corpus}: no chunk of {args.min_chars} characters or more")
    drawn = random.Random(args.seed).sample(drawable, min(args.questions, len(drawable)))
    llm = make_llm(args.llm)
    questions = []
    for i, p in enumerate(tqdm(drawn, desc="questions", unit="q")):
        question = question_for(llm, p.text)
        if question is not None:
            questions.append({"id": f"doc-{args.seed}-{i}", "question": question, "answer": "",
                              "paragraphs": [{"idx": 0, "title": p.title, "paragraph_text": p.text,
                                              "is_supporting": True}]})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "questions.json").write_text(json.dumps(questions, indent=1, ensure_ascii=False), encoding="utf-8")
    (out / "corpus.json").write_text(json.dumps([{"title": p.title, "text": p.text} for p in passages],
                                                ensure_ascii=False), encoding="utf-8")
    print(json.dumps({"chunks": len(passages), "drawn": len(drawn), "questions": len(questions),
                      "llm": llm.name, "out": str(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
