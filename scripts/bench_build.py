"""Benchmark: build a graph from the MuSiQue corpus (1,890 passages) with the offline extractor.

Prints passages/s, triples, entities, peak memory, and the ratio against a baseline measured in the
same process: all-MiniLM-L6-v2 encoding the same passages and nothing else.

    .venv/bin/python scripts/bench_build.py --data ../shared/data [--limit N]
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
from graphmem.embed import default_embedder  # noqa: E402
from graphmem.memory import Memory  # noqa: E402
from graphmem.normalize import ResolverConfig  # noqa: E402
from graphmem.store.embedded import EmbeddedStore  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--baseline-sample", type=int, default=300, help="passages encoded for the baseline")
    args = ap.parse_args()
    corpus = Path(args.data) / "multihop" / "musique" / "corpus.json"
    passages = load_corpus(corpus)[: args.limit]
    embedder = default_embedder()
    embedder.encode(["warm up"])

    sample = [text for _, _, text in passages[: args.baseline_sample]]
    t0 = time.perf_counter()
    embedder.encode(sample)
    encode_rate = len(sample) / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "musique.json"
        memory = Memory(EmbeddedStore(out), embedder=embedder,
                        resolver=ResolverConfig(use_fuzzy=False, use_embeddings=False))
        memory.extractor.extract("Warm up the parser.")
        t0 = time.perf_counter()
        for i in range(0, len(passages), args.batch_size):
            memory.observe_many(passages[i:i + args.batch_size])
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        memory.save()
        save_s = time.perf_counter() - t0
        counts = memory.stats()
        size_mb = out.stat().st_size / 1e6
    rate = len(passages) / build_s
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "passages": len(passages), "triples": counts["triples"], "entities": counts["entities"],
        "build_seconds": round(build_s, 2), "passages_per_second": round(rate, 1),
        "save_seconds": round(save_s, 2), "graph_file_mb": round(size_mb, 1),
        "peak_rss_mb": round(peak_mb), "baseline_encode_only_passages_per_second": round(encode_rate, 1),
        "ratio_build_vs_encode_only": round(rate / encode_rate, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
