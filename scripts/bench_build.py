"""Benchmark: index the MuSiQue corpus (1,890 passages) with the offline extractor, as `graphmem
build` does and as `eval-qa` builds its graph, against the bare embedder at its best batch size.

The baseline is measured in the same run: the sentence-transformers model alone encodes a sample
of the passages (title + text, as the graph embeds them) at each batch size in --batch-sizes; the
best rate is the baseline. Then:
- build: CorpusGraph.add over the corpus (parsing, passage/fact/entity embeddings, linking, store);
- eval-qa graph: the dense passage index first (eval-qa caches it), then the graph reusing those
  passage vectors; the rate counts both.
Each prints passages/s and its ratio to the baseline's best rate.

    .venv/bin/python scripts/bench_build.py --data ../shared/data [--limit N] [--parts baseline,build,evalqa]
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphmem.corpus import load_corpus  # noqa: E402
from graphmem.embedders import embedder_named  # noqa: E402
from graphmem.extract.offline import OfflineExtractor  # noqa: E402
from graphmem.model import titled_text  # noqa: E402
from graphmem.rag import DenseRetriever  # noqa: E402
from graphmem.rag.graph import CorpusGraph  # noqa: E402
from graphmem.store.embedded import EmbeddedStore  # noqa: E402


def bare_rates(embedder, texts: list[str], batch_sizes: list[int]) -> dict[int, float]:
    """Passages/s of the model's own encode at each fixed batch size (no length batching)."""
    model = embedder.model
    rates = {}
    for b in batch_sizes:
        t0 = time.perf_counter()
        model.encode(texts, batch_size=b, normalize_embeddings=True, convert_to_numpy=True,
                     show_progress_bar=False)
        rates[b] = round(len(texts) / (time.perf_counter() - t0), 1)
    return rates


def build(passages, embedder, extractor, tmp: str, name: str, vectors=None) -> dict:
    graph = CorpusGraph(EmbeddedStore(Path(tmp) / f"{name}.json", create=True), embedder=embedder,
                        extractor=extractor)
    t0 = time.perf_counter()
    graph.add(passages, passage_vectors=vectors)
    graph.save()
    seconds = time.perf_counter() - t0
    stats = graph.stats()
    graph.close()
    return {"seconds": round(seconds, 2), "triples": stats["triples"], "entities": stats["entities"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--embedder", default=None, help="default all-MiniLM-L6-v2")
    ap.add_argument("--batch-sizes", default="16,32,64,128,256", help="bare embedder batch sizes tried")
    ap.add_argument("--baseline-sample", type=int, default=400, help="passages encoded per batch size")
    ap.add_argument("--parts", default="baseline,build,evalqa")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    passages = load_corpus(Path(args.data) / "multihop" / "musique" / "corpus.json")[: args.limit]
    embedder = embedder_named(args.embedder)
    embedder.encode(["warm up"])
    extractor = OfflineExtractor()
    extractor.extract("Warm up the parser.")
    texts = [titled_text(p.title, p.text) for p in passages]
    sample = texts[: args.baseline_sample]
    out: dict = {"passages": len(passages), "embedder": embedder.name}

    rates = bare_rates(embedder, sample, [int(b) for b in args.batch_sizes.split(",")])
    best = max(rates, key=rates.get)
    out["baseline"] = {"sample": len(sample), "bare_passages_per_second_by_batch_size": rates,
                       "best_batch_size": best, "best_passages_per_second": rates[best]}
    if "baseline" in parts:
        t0 = time.perf_counter()
        embedder.encode(sample)
        rate = len(sample) / (time.perf_counter() - t0)
        out["length_batched_encode"] = {"passages_per_second": round(rate, 1),
                                        "ratio_vs_best_bare": round(rate / rates[best], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        if "build" in parts:
            res = build(passages, embedder, extractor, tmp, "build")
            rate = len(passages) / res["seconds"]
            out["build"] = {**res, "passages_per_second": round(rate, 1),
                            "ratio_vs_best_bare": round(rate / rates[best], 2)}
        if "evalqa" in parts:
            t0 = time.perf_counter()
            dense = DenseRetriever(embedder)
            dense.add(passages)
            dense_s = time.perf_counter() - t0
            res = build(passages, embedder, extractor, tmp, "evalqa",
                        dict(zip(dense.index.ids, dense.index.matrix)))
            total = dense_s + res["seconds"]
            rate = len(passages) / total
            out["evalqa_graph"] = {**res, "dense_seconds": round(dense_s, 2), "seconds": round(total, 2),
                                   "passages_per_second": round(rate, 1),
                                   "ratio_vs_best_bare": round(rate / rates[best], 2)}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
