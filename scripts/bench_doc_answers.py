"""Benchmark: cited answers from the graph's chunks against answers from the hybrid peer's chunks.

For the questions of one type in a GraphRAG-Bench-style folder (questions.json with
``question_type``, ``answer`` and ``evidence`` statements; corpus.json of chunks), the same LLM
answers each question twice with the same cited prompt (``Answerer.cite``): from the graph's top-k
chunks (with ``--facts``, its linked facts too) and from hybrid's (dense + BM25) top-k chunks.
Reported per retriever:

- f1: token F1 of the answer text against the gold answer (environments/qa/metrics; an "unknown"
  counts as an empty answer, 0);
- answered: the share of questions answered (not "unknown", no failure);
- cites: the share of answered questions whose answer cites at least one chunk;
- covering: the share of cited chunks that cover one of their question's evidence statements
  (environments/qa/evidence.py's rule; questions without statements are left out);
- prompt_tokens: the mean prompt length.

The graph is the one ``graphmem eval-qa --data DIR`` caches under --cache-dir (built there on a
miss, as eval-qa does). Every LLM call goes through graphmem's response cache (--replay: only
from it). ``--log FILE`` keeps one JSON line per question; a restart skips the questions done.

    .venv/bin/python scripts/bench_doc_answers.py --data ../shared/data/documents/graphrag_bench_medical \
        --split dev --type "Fact Retrieval" --limit 50 --log bench-doc-answers.jsonl
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Sequence

from graphmem_agents.cli.qa import retriever_names
from graphmem_agents.qa.harness import build_retrievers
from graphmem_environments.qa import Question, f1_score, load_dataset
from graphmem_environments.qa.evidence import DEFAULT_THRESHOLD, EvidenceCoverage
from graphmem_environments.qa.split import SPLITS, select_split
from graphmem.rag.answer import Answerer

log = logging.getLogger("bench_doc_answers")

RETRIEVERS = ("graph", "hybrid")
DEFAULT_CACHE = os.path.join(".graphmem-cache", "qa")


def chosen_questions(dataset, split: str, kind: str | None, limit: int | None) -> list[Question]:
    """The split's questions of type ``kind`` (every type when None), the first ``limit``."""
    questions = [q for q in select_split(dataset, split).questions if kind is None or q.question_type == kind]
    return questions[:limit] if limit else questions


def read_log(path: str | None, settings: dict) -> dict[str, dict]:
    """The rows of a log written with the same settings, by question id. A line cut short by a
    killed run is skipped (its question is asked again); rows of other settings are refused, since
    one summary must not mix two models or two k."""
    rows: dict[str, dict] = {}
    if not path or not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s line %d is not JSON (a run killed mid-write?): asked again", path, n)
                continue
            if row.get("settings") != settings:
                sys.exit(f"{path} line {n} was written with {row.get('settings')}, not {settings}: "
                         "give another --log")
            rows[row["id"]] = row
    return rows


def answer_one(q: Question, built, dataset, answerer: Answerer, coverage: EvidenceCoverage,
               k: int, facts: bool, names: Sequence[str] = RETRIEVERS) -> dict:
    """One question's answers from each retriever of ``names`` (the log's row, less its settings)."""
    row: dict = {"id": q.id, "question_type": q.question_type, "statements": len(q.evidence)}
    for name in names:
        linked = []
        if name == "graph":
            found = built.retrievers["graph"].query(q.question, k)
            ranked = [pid for pid, _ in found.passages]
            linked = [t for t, _ in found.facts] if facts else []
        else:
            ranked = [pid for pid, _ in built.retrievers[name].retrieve(q.question, k)]
        passages = [p for pid in ranked if (p := dataset.passage(pid)) is not None]
        cited = answerer.cite(q.question, passages, linked)
        row[name] = {
            "retrieved": ranked, "answer": cited.answer, "known": cited.known, "failed": cited.failed,
            "sources": list(cited.sources),
            "covering": [pid for pid in cited.sources if any(coverage.covers(s, pid) for s in q.evidence)],
            "f1": f1_score(cited.answer, q.answers), "prompt_tokens": cited.prompt_tokens}
    return row


def summarize(rows: Sequence[dict], names: Sequence[str] = RETRIEVERS) -> dict:
    """Per retriever of ``names``: questions, f1, answered, cites, covering, prompt_tokens, failures (shares in
    0..1; None where nothing was there to share)."""
    def share(hits: int, total: int) -> float | None:
        return hits / total if total else None

    out: dict = {}
    for name in names:
        mine = [r[name] for r in rows]
        answered = [r for r in mine if r["known"]]
        cited = [(pid in r[name]["covering"]) for r in rows if r["statements"] for pid in r[name]["sources"]]
        out[name] = {
            "questions": len(mine),
            "f1": share(sum(r["f1"] for r in mine), len(mine)),
            "answered": share(len(answered), len(mine)),
            "cites": share(sum(bool(r["sources"]) for r in answered), len(answered)),
            "covering": share(sum(cited), len(cited)),
            "cited_chunks": len(cited),
            "prompt_tokens": share(sum(r["prompt_tokens"] for r in mine), len(mine)),
            "failures": sum(r["failed"] for r in mine)}
    return out


def format_summary(summary: dict, header: str) -> str:
    columns = ("f1", "answered", "cites", "covering", "prompt_tokens")
    lines = [header, f"{'retriever':<9}" + "".join(f"{c:>15}" for c in columns) + f"{'failures':>10}"]
    for name, s in summary.items():
        cells = ["-" if s[c] is None else f"{s[c]:.1f}" if c == "prompt_tokens" else f"{s[c]:.3f}"
                 for c in columns]
        lines.append(f"{name:<9}" + "".join(f"{c:>15}" for c in cells) + f"{s['failures']:>10}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from graphmem.extract import make_extractor
    from graphmem.llm import make_llm
    from graphmem.profiles import DOCUMENTS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, metavar="DIR", help="questions.json and corpus.json")
    ap.add_argument("--split", choices=SPLITS, default="all", help="eval-qa's dev/test split (default all)")
    ap.add_argument("--type", dest="kind", metavar="TYPE", help="question_type to ask (default: every type)")
    ap.add_argument("--limit", type=int, help="first N questions of that type and split")
    ap.add_argument("--k", type=int, default=5, help="chunks shown to the LLM (default 5)")
    ap.add_argument("--facts", action="store_true", help="show the graph's linked facts too")
    ap.add_argument("--retrievers", type=retriever_names(RETRIEVERS), default=list(RETRIEVERS), metavar="NAMES",
                    help="which of graph,hybrid answer (default both: one alone re-measures it after "
                         "a change to it, the other's answers being the same)")
    ap.add_argument("--log", metavar="FILE.jsonl", help="per-question results; a restart skips those done")
    ap.add_argument("--llm", help="graphmem's --llm forms (default: graphmem's default model)")
    cache = ap.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", dest="cache_mode", action="store_const", const="off", default="on")
    cache.add_argument("--replay", dest="cache_mode", action="store_const", const="replay")
    ap.add_argument("--cache-dir", default=DEFAULT_CACHE, help=f"eval-qa's graph cache (default {DEFAULT_CACHE})")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    dataset = load_dataset(args.data)
    questions = chosen_questions(dataset, args.split, args.kind, args.limit)
    if not questions:
        sys.exit(f"no {args.kind or ''} question in the {args.split} split of {args.data}")
    llm = make_llm(args.llm, cache_mode=args.cache_mode)
    settings = {"llm": llm.name, "k": args.k, "facts": args.facts, "retrievers": args.retrievers}
    done = read_log(args.log, settings)
    todo = [q for q in questions if q.id not in done]
    if todo:
        from tqdm import tqdm

        built = build_retrievers(args.retrievers, dataset, args.cache_dir, "offline",
                                 make_extractor("offline", None, DOCUMENTS))
        coverage = EvidenceCoverage(dataset.passages, DEFAULT_THRESHOLD)
        answerer = Answerer(llm, top_k=args.k)
        out = _log_file(args.log)
        try:
            for q in tqdm(todo, desc="questions", unit="q"):
                row = {**answer_one(q, built, dataset, answerer, coverage, args.k, args.facts, args.retrievers),
                       "settings": settings}
                done[q.id] = row
                if out is not None:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    out.flush()
        finally:
            if out is not None:
                out.close()
    summary = summarize([done[q.id] for q in questions], args.retrievers)
    if args.json:
        print(json.dumps({"questions": len(questions), "settings": settings, "retrievers": summary}, indent=1))
    else:
        print(format_summary(summary, f"{len(questions)} {args.kind or 'all-type'} questions ({args.split} "
                                      f"split), k={args.k}, {llm.name}"))
    return 0


def _log_file(path: str | None):
    """The log opened for appending, after a newline if a killed run left a line unfinished."""
    if not path:
        return None
    unfinished = False
    if os.path.exists(path) and os.path.getsize(path):
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            unfinished = f.read(1) != b"\n"
    out = open(path, "a", encoding="utf-8")
    if unfinished:
        out.write("\n")
    return out


if __name__ == "__main__":
    sys.exit(main())
