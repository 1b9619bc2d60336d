"""Benchmark: conversation memory on LoCoMo (eval-conv's library), three parts.

- recall: evidence recall@1/5/10 per category of the graph and of dense, BM25 and hybrid over the
  same turns (the report eval-conv prints), with each retriever's median query time;
- ingest: one conversation written turn by turn into a new dialogue memory (offline extraction,
  embeddings, store), in turns per second, against the bare embedder encoding the same turns at its
  best batch size in the same run (the baseline: a memory cannot write turns faster than it can
  embed them), then the wall and CPU seconds of the ingestion and of its two CPU-bound parts alone
  (the encoder with token vectors; the parse);
- answers (--answer): LoCoMo F1 per category of answers read from the graph's top 10 turns and of
  the full-context baseline, prompt tokens and seconds per question (the local model unless --llm).

    .venv/bin/python scripts/bench_conv.py [--data ../shared/data] [--conversations conv-26,conv-30]
        [--parts recall,ingest] [--answer --limit 20] [--out bench-conv]
    GRAPHMEM_EMBED_PRECISION=bf16 .venv/bin/python scripts/bench_conv.py --parts ingest  (both sides in bf16)

Writes OUT/report.json (every part's numbers, the load average while it ran).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from graphmem_agents.qa.conversation import evaluate, format_report, open_conversation_graph
from graphmem_environments.conversation import load_locomo
from graphmem.embedders.precision import computing_in
from graphmem.embedders.sentence_transformer import default_embedder
from graphmem.extract.offline import OfflineExtractor
from graphmem.dialogue import prepared
from graphmem.model import embedded_text
from graphmem.profiles import DIALOGUE

KS = [1, 5, 10]


def ingest(conversations, batch_sizes=(16, 64, 256)) -> dict:
    """Turns per second of a fresh memory per conversation, beside the bare embedder's best rate;
    then its two CPU-bound parts alone (the encoder with token vectors, the parse of the texts the
    memory extracts from), wall and CPU seconds: where the ingestion's time goes."""
    embedder = default_embedder()
    extractor = OfflineExtractor(profile=DIALOGUE)
    embedder.encode(["warm up"])
    extractor.extract("I am warming up.")
    turns = [t for c in conversations for t in c.turns]
    texts = [embedded_text(t.time, t.said, DIALOGUE.embeds_title) for t in turns]  # what the memory encodes
    said = [prepared(t.said, t.meta, DIALOGUE.speaker_pronouns, DIALOGUE.relative_times)[1] for t in turns]
    bare = {}
    for b in batch_sizes:
        t0 = time.perf_counter()
        with computing_in(embedder.precision, embedder.device):  # the baseline in the same number format
            embedder.model.encode(texts, batch_size=b, normalize_embeddings=True, show_progress_bar=False)
        bare[b] = len(texts) / (time.perf_counter() - t0)
    whole = timed(lambda: [open_conversation_graph(conv, None, embedder, extractor) for conv in conversations])
    rate = len(texts) / whole["wall_s"]
    best = max(bare.values())
    return {"turns": len(texts), "embed_precision": embedder.precision, "turns_per_second": round(rate, 1),
            "bare_embedder_turns_per_second": {b: round(r, 1) for b, r in bare.items()},
            "ratio_vs_best_bare_embedder": round(rate / best, 3),
            "seconds": {"ingestion": whole, "encoder_alone": timed(lambda: embedder.encode_tokens(texts)),
                        "parse_alone": timed(lambda: extractor.extract_many(said))},
            "load_average": os.getloadavg()[0]}


def timed(work) -> dict:
    """Wall and CPU seconds (every thread of this process) of ``work()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return {"wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(time.process_time() - cpu, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--conversations", help="comma list of sample ids (default: all in the file)")
    ap.add_argument("--parts", default="recall,ingest", help="any of recall, ingest (comma-separated)")
    ap.add_argument("--answer", action="store_true", help="also answer (LLM): F1, tokens, seconds")
    ap.add_argument("--limit", type=int, help="with --answer: first N questions of each conversation")
    ap.add_argument("--llm", help="graphmem's --llm forms (default: the local model)")
    ap.add_argument("--cache-dir", default=os.path.join(".graphmem-cache", "conv"))
    ap.add_argument("--out", default="bench-conv")
    args = ap.parse_args()
    path = Path(args.data) / "conversation" / "locomo" / "locomo_dev.json"
    wanted = args.conversations.split(",") if args.conversations else None
    conversations = load_locomo(str(path), wanted)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"data": str(path), "conversations": [c.id for c in conversations]}
    parts = set(args.parts.split(","))
    if "recall" in parts:
        recall = evaluate(conversations, ["graph", "dense", "bm25", "hybrid"], KS, args.cache_dir, progress=True)
        recall["load_average"] = os.getloadavg()[0]
        report["recall"] = recall
        print(format_report(recall, KS), flush=True)
    if "ingest" in parts:
        report["ingest"] = ingest(conversations)
        print("ingest:", json.dumps(report["ingest"]), flush=True)
    if args.answer:
        from graphmem_agents.qa.conv_answer import FullContextAnswerer, TurnAnswerer
        from graphmem.llm import make_llm

        llm = make_llm(args.llm)
        memory, full = TurnAnswerer(llm), FullContextAnswerer(llm)
        if args.limit:
            for conv in conversations:
                conv.questions = conv.questions[:args.limit]
        answers = evaluate(conversations, ["graph"], KS, args.cache_dir, answer=memory.answer,
                           full_context=full.answer, progress=True, per_question=True)
        for kind, reader in (("memory", memory), ("full-context", full)):
            tokens = reader.prompt_tokens
            answers["answers"][kind]["prompt_tokens_mean"] = round(sum(tokens) / max(1, len(tokens)), 1)
            answers["answers"][kind]["failures"] = reader.failures
        report["answers"] = answers
        print(format_report(answers, KS), flush=True)
    (out / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
