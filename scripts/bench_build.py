"""Benchmark: index the MuSiQue corpus (1,890 passages) with the offline extractor, as `graphmem
build` does and as `eval-qa` builds its graph, against the bare embedder at its best batch size.

The baseline is measured in the same run: the sentence-transformers model alone encodes a sample
of the passages (title + text, as the graph embeds them; every n-th passage) at each batch size
in --batch-sizes, then all the passages at the best of them: that rate, on the same passages as
the builds, is the baseline. Then:
- build: CorpusGraph.add over the corpus (parsing, passage embeddings with the facts' vectors pooled
  from the same forward pass, linking, store), then saving;
- eval-qa graph: the graph as eval-qa builds it (the same, checkpointed every SAVE_EVERY passages);
  its dense baseline then reuses the graph's passage vectors, so nothing else is embedded.
Each prints passages/s and its ratio to the baseline's best rate, with the load average. Beside it:
the bare model with its fixed batches run one per core on one torch thread each, as graphmem's
encoder runs its length batches (ratio_vs_best_bare_per_core, chosen and measured the same way), so
a gain owed to that alone shows.

    .venv/bin/python scripts/bench_build.py --data ../shared/data [--limit N] [--parts baseline,build,evalqa]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from graphmem_agents.qa.harness import SAVE_EVERY
from graphmem.corpus import load_corpus
from graphmem.embedders import embedder_named
from graphmem.extract.offline import OfflineExtractor
from graphmem.model import titled_text
from graphmem.profiles import DOCUMENTS
from graphmem.rag.graph import CorpusGraph
from graphmem.store.embedded import EmbeddedStore


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


def bare_rates_per_core(embedder, texts: list[str], batch_sizes: list[int]) -> dict[int, float]:
    """Passages/s of the model's own encode with its fixed batches run one per core, each on one
    torch thread (as graphmem's encoder runs its length batches): how much of the indexing rate
    is owed to that alone."""
    import torch

    model = embedder.model
    rates = {}
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # Longest first, as the model's own encode orders a call's texts: chunks cut from the
        # corpus order would pad every chunk to its longest passage.
        ordered = sorted(texts, key=len, reverse=True)
        for b in batch_sizes:
            chunks = [ordered[i:i + b] for i in range(0, len(ordered), b)]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                list(pool.map(lambda chunk: model.encode(chunk, batch_size=b, normalize_embeddings=True,
                                                         show_progress_bar=False), chunks))
            rates[b] = round(len(texts) / (time.perf_counter() - t0), 1)
    finally:
        torch.set_num_threads(before)
    return rates


def fresh_extractor() -> OfflineExtractor:
    """A parser loaded for one part: spaCy's vocabulary grows with the words it meets, so a parser
    that had read these passages before would parse them faster than a build of new ones does."""
    extractor = OfflineExtractor(profile=DOCUMENTS)
    extractor.extract("Warm up the parser.")
    return extractor


def build(passages, embedder, extractor, tmp: str, name: str, save_every: int | None = None) -> dict:
    graph = CorpusGraph(EmbeddedStore(Path(tmp) / f"{name}.json", create=True), embedder=embedder,
                        extractor=extractor)
    t0 = time.perf_counter()
    graph.add(passages, save_every=save_every)
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
    ap.add_argument("--per-core-batch-sizes", default="16,32",
                    help="batch sizes of the bare embedder run one batch per core (reported beside)")
    ap.add_argument("--baseline-sample", type=int, default=400, help="passages encoded per batch size")
    ap.add_argument("--parts", default="baseline,build,evalqa")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    passages = load_corpus(Path(args.data) / "multihop" / "musique" / "corpus.json")[: args.limit]
    embedder = embedder_named(args.embedder)
    embedder.encode(["warm up"])
    texts = [titled_text(p.title, p.text) for p in passages]
    # The sample only picks the batch size; the baseline is the rate on the builds' own passages
    # (a sample's rate strayed from the corpus's: 64.9/s in one run, 67-71/s on all passages).
    sample = texts[:: max(1, len(texts) // args.baseline_sample)][: args.baseline_sample]
    out: dict = {"passages": len(passages), "embedder": embedder.name, "cpus": os.cpu_count(),
                 "load_average_before": [round(x, 2) for x in os.getloadavg()]}

    rates = bare_rates(embedder, sample, [int(b) for b in args.batch_sizes.split(",")])
    best = max(rates, key=rates.get)
    best_rate = bare_rates(embedder, texts, [best])[best] if len(texts) > len(sample) else rates[best]
    out["baseline"] = {"sample": len(sample), "bare_passages_per_second_by_batch_size": rates,
                       "best_batch_size": best, "best_passages_per_second": best_rate}
    best_per_core = None
    if "baseline" in parts:
        per_core = bare_rates_per_core(embedder, sample, [int(b) for b in args.per_core_batch_sizes.split(",")])
        best_b = max(per_core, key=per_core.get)
        best_per_core = (bare_rates_per_core(embedder, texts, [best_b])[best_b] if len(texts) > len(sample)
                         else per_core[best_b])
        out["baseline_one_batch_per_core"] = {"bare_passages_per_second_by_batch_size": per_core,
                                              "best_batch_size": best_b,
                                              "best_passages_per_second": best_per_core}
        t0 = time.perf_counter()
        embedder.encode(sample)
        rate = len(sample) / (time.perf_counter() - t0)
        out["length_batched_encode"] = {"passages_per_second": round(rate, 1),
                                        "ratio_vs_best_bare": round(rate / rates[best], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        for part, save_every in (("build", None), ("evalqa", SAVE_EVERY)):
            if part in parts:
                res = build(passages, embedder, fresh_extractor(), tmp, part, save_every)
                rate = len(passages) / res["seconds"]
                entry = out["evalqa_graph" if part == "evalqa" else part] = {
                    **res, "passages_per_second": round(rate, 1),
                    "ratio_vs_best_bare": round(rate / best_rate, 2)}
                if best_per_core:
                    entry["ratio_vs_best_bare_per_core"] = round(rate / best_per_core, 2)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
