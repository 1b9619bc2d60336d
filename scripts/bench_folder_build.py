"""Benchmark: read a folder of documents in chunks and build its graph, as `graphmem build FOLDER`
does (offline extractor), against the bare embedder encoding the same chunk texts (title + text,
as the graph embeds them) at its best batch size, in the same process.

The batch size is picked on a sample of the chunks (every n-th), then the bare model encodes all of
them at that size: that rate is the baseline. Prints the reading and chunking time, the chunks'
sizes, the build's chunks/s and its ratio to the baseline, with the load average (the CPU may be
shared: compare ratios, not rates, across runs).

    .venv/bin/python scripts/bench_folder_build.py DIR [--chunk-min 400] [--chunk-max 1200] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from bench_build import bare_rates, build, fresh_extractor  # this folder's MuSiQue benchmark
from graphmem.corpus import read_corpus
from graphmem.documents import ChunkSizes
from graphmem.embedders import embedder_named
from graphmem.model import titled_text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", metavar="DIR")
    ap.add_argument("--chunk-min", type=int, default=ChunkSizes.min_chars)
    ap.add_argument("--chunk-max", type=int, default=ChunkSizes.max_chars)
    ap.add_argument("--chunk-overlap", type=int, default=ChunkSizes.overlap)
    ap.add_argument("--limit", type=int, default=None, help="only the first N chunks")
    ap.add_argument("--embedder", default=None, help="default all-MiniLM-L6-v2")
    ap.add_argument("--batch-sizes", default="16,32,64,128,256", help="bare embedder batch sizes tried")
    ap.add_argument("--baseline-sample", type=int, default=400, help="chunks encoded per batch size")
    args = ap.parse_args()

    start = time.perf_counter()
    corpus = read_corpus(args.folder, ChunkSizes(args.chunk_min, args.chunk_max, args.chunk_overlap))
    read_seconds = time.perf_counter() - start
    passages = corpus.passages[: args.limit]
    if not passages:
        raise SystemExit(f"{args.folder}: no text to build from")
    sizes = [len(p.text) for p in passages]
    embedder = embedder_named(args.embedder)
    embedder.encode(["warm up"])
    texts = [titled_text(p.title, p.text) for p in passages]
    sample = texts[:: max(1, len(texts) // args.baseline_sample)][: args.baseline_sample]
    out: dict = {"documents": len(corpus.documents), "files_skipped": corpus.files_skipped,
                 "files_failed": len(corpus.files_failed), "chunks": len(passages),
                 "chunk_chars": {"min": min(sizes), "median": statistics.median(sizes), "max": max(sizes)},
                 "read_and_chunk_seconds": round(read_seconds, 2), "embedder": embedder.name,
                 "cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in os.getloadavg()]}

    rates = bare_rates(embedder, sample, [int(b) for b in args.batch_sizes.split(",")])
    best = max(rates, key=rates.get)
    best_rate = bare_rates(embedder, texts, [best])[best] if len(texts) > len(sample) else rates[best]
    out["baseline"] = {"sample": len(sample), "bare_chunks_per_second_by_batch_size": rates,
                       "best_batch_size": best, "best_chunks_per_second": best_rate}
    with tempfile.TemporaryDirectory() as tmp:
        built = build(passages, embedder, fresh_extractor(), tmp, "folder")
    rate = len(passages) / built["seconds"]
    out["build"] = {**built, "chunks_per_second": round(rate, 1), "ratio_vs_best_bare": round(rate / best_rate, 2)}
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
