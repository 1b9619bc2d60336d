#!/usr/bin/env python
"""Per-observation LLM extraction latency and tokens, and the response-cache speed-up.

Runs the extractor over five TextWorld-style observations with a fresh response cache (live calls;
the first one also loads the model), then over the same observations again (all cache hits), and
prints the live/cached latency ratio. Each observation gets the triples found so far as context,
as in a real run.

    .venv/bin/python scripts/bench_llm_extract.py [--llm local|local:PATH|openai:MODEL]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from graphmem.extract.llm import LLMExtractor
from graphmem.llm import make_llm
from graphmem.model import Triple

OBSERVATIONS = [
    "-= Kitchen =-\nYou are in a kitchen. You see a closed fridge and an oven. On the counter is a "
    "red apple. There is an exit to the east and an exit to the north.",
    "Action: take red apple\nYou take the red apple from the counter.",
    "Action: go east\n-= Living Room =-\nYou arrive in a living room. A sofa is here. On the sofa is "
    "a blue cushion. A locked wooden chest stands in the corner. There is an exit to the west.",
    "Action: open fridge\nYou open the fridge, revealing a carton of milk and a yellow pepper.",
    "Action: go north\n-= Garden =-\nYou are in a garden. You see a rusty key on the bench. There "
    "is an exit to the south.",
]


def run(extractor: LLMExtractor) -> list[tuple]:
    rows, known = [], []
    for text in OBSERVATIONS:
        started = time.perf_counter()
        report = extractor.extract_report(text, known[-10:])
        rows.append((time.perf_counter() - started, report.prompt_tokens, report.completion_tokens,
                     len(report.triples), report.cached, report.triples))
        known += [Triple(*t) for t in report.triples]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--llm", default="local", help="backend spec (default: local)")
    parser.add_argument("--show", action="store_true", help="print the extracted triples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        llm = make_llm(args.llm, cache_path=Path(tmp) / "bench-cache.sqlite")
        extractor = LLMExtractor(llm)
        live = run(extractor)
        cached = run(extractor)
    print(f"model: {llm.name}")
    print(f"{'obs':>3} {'live s':>8} {'prompt':>7} {'compl':>6} {'triples':>7} {'cached s':>9}")
    for i, (a, b) in enumerate(zip(live, cached), start=1):
        print(f"{i:>3} {a[0]:>8.2f} {a[1]:>7} {a[2]:>6} {a[3]:>7} {b[0]:>9.4f}")
    steady = [r[0] for r in live[1:]]  # the first call also loads the model
    hits = [r[0] for r in cached]
    usage = llm.usage.snapshot()
    print(f"first call (model load + cold prompt): {live[0][0]:.2f} s")
    print(f"mean live latency, obs 2-{len(live)}: {statistics.mean(steady):.2f} s; "
          f"mean cache-hit latency: {statistics.mean(hits) * 1000:.2f} ms")
    print(f"cache-hit speed-up (mean live obs 2-{len(live)} / mean hit): "
          f"{statistics.mean(steady) / statistics.mean(hits):.0f}x")
    print(f"all cached on second pass: {all(r[4] for r in cached)}; usage: {usage.to_dict()}")
    print(f"extractor stats: {extractor.stats}")
    if args.show:
        for i, row in enumerate(live, start=1):
            print(f"obs {i}: {row[5]}")


if __name__ == "__main__":
    main()
