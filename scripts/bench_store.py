"""Store benchmark: batch write throughput and 2-hop neighbourhood read latency, embedded vs Bolt.

The same synthetic triples go into the embedded store and a Bolt server (an ArcadeDB started here
on free loopback ports unless --uri names a running server), and ratios are printed against the
embedded store measured in the same process.

    python scripts/bench_store.py [--triples 100000] [--batch 5000] [--seeds 100] [--uri bolt://...]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from graphmem.model import Triple
from graphmem.store.embedded import EmbeddedStore


def synthetic_triples(n: int, seed: int) -> list[Triple]:
    """n distinct facts over n/5 entities uniformly (mean degree 10), 8 relations, 10% retired."""
    rng = np.random.default_rng(seed)
    n_entities = max(10, n // 5)
    facts: dict[tuple[int, int, int], None] = {}
    while len(facts) < n:  # one current triple per fact, as Memory keeps it
        k = n - len(facts)
        subj = rng.integers(0, n_entities, k)
        obj = rng.integers(0, n_entities, k)
        rel = rng.integers(0, 8, k)
        facts.update(dict.fromkeys(zip(subj.tolist(), rel.tolist(), obj.tolist())))
    triples = []
    for i, (s, r, o) in enumerate(list(facts)[:n]):
        until = i % 1000 + 1 if i % 10 == 0 else None
        triples.append(Triple(f"entity {s}", f"rel{r}", f"entity {o}", valid_from=i % 1000,
                              valid_until=until, sources=[f"ep{i // 20}"]))
    return triples


def write_all(store, triples: list[Triple], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(triples), batch):
        store.add_triples(triples[i:i + batch])
    store.flush()
    return time.perf_counter() - start


def two_hop_per_entity(store, seed: str) -> set[str]:
    """What a breadth-first recall does through the protocol: one lookup per frontier entity."""
    first = store.triples_of_entity(seed)
    frontier = sorted({n for t in first for n in (t.subject, t.object)} - {seed})
    ids = {t.id for t in first}
    for name in frontier:
        ids.update(t.id for t in store.triples_of_entity(name))
    return ids


def two_hop_batched(store, seed: str) -> set[str]:
    """The same neighbourhood with one lookup per hop (BoltStore.triples_of_entities)."""
    first = store.triples_of_entities([seed])
    frontier = sorted({n for t in first for n in (t.subject, t.object)} - {seed})
    return {t.id for t in first} | {t.id for t in store.triples_of_entities(frontier)}


def latency_ms(fn, store, seeds: list[str]) -> tuple[float, float, list[set[str]]]:
    times, answers = [], []
    for s in seeds:
        start = time.perf_counter()
        answers.append(fn(store, s))
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95)), answers


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--seeds", type=int, default=100, help="2-hop queries to time")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--uri", help="use this Bolt server instead of starting ArcadeDB")
    ap.add_argument("--user", default="neo4j")
    ap.add_argument("--password", default="")
    ap.add_argument("--database", default=None, help="an EMPTY database on --uri")
    args = ap.parse_args(argv)

    from graphmem.store.bolt import BoltStore

    triples = synthetic_triples(args.triples, args.seed)
    server = None
    if args.uri is None:
        from graphmem.testing.arcadedb import PASSWORD, USER, ArcadeServer

        server = ArcadeServer(Path(tempfile.mkdtemp(prefix="graphmem-bench-")))
        server.start()
        uri, user, password, database = server.uri, USER, PASSWORD, server.fresh_database("bench")
    else:
        uri, user, password, database = args.uri, args.user, args.password, args.database
    try:
        with tempfile.TemporaryDirectory() as tmp:
            embedded = EmbeddedStore(Path(tmp) / "bench.json")
            t_emb = write_all(embedded, triples, args.batch)
            bolt = BoltStore(uri, user, password, database)
            t_bolt = write_all(bolt, triples, args.batch)
            assert bolt.counts() == embedded.counts(), (bolt.counts(), embedded.counts())

            rng = np.random.default_rng(args.seed + 1)
            names = embedded.entities()
            seeds = [names[i] for i in rng.choice(len(names), args.seeds, replace=False)]
            emb_med, emb_p95, emb_ans = latency_ms(two_hop_per_entity, embedded, seeds)
            bolt_med, bolt_p95, bolt_ans = latency_ms(two_hop_per_entity, bolt, seeds)
            bat_med, bat_p95, bat_ans = latency_ms(two_hop_batched, bolt, seeds)
            assert emb_ans == bolt_ans == bat_ans, "backends disagree on 2-hop neighbourhoods"
            sizes = [len(a) for a in emb_ans]
            server_agent = bolt.server_agent
            bolt.close()

        n = len(triples)
        print(f"{n} triples, batch {args.batch}; Bolt server: {server_agent}")
        print(f"write  embedded (incl. atomic save): {n / t_emb:10.0f} triples/s  ({t_emb:.2f} s)")
        print(f"write  bolt:                         {n / t_bolt:10.0f} triples/s  ({t_bolt:.2f} s)"
              f"  ratio bolt/embedded throughput {t_emb / t_bolt:.3f}")
        print(f"2-hop over {len(seeds)} seeds, neighbourhood median {np.median(sizes):.0f} "
              f"triples (max {max(sizes)})")
        print(f"2-hop  embedded, per entity: median {emb_med:8.2f} ms  p95 {emb_p95:8.2f} ms")
        print(f"2-hop  bolt, per entity:     median {bolt_med:8.2f} ms  p95 {bolt_p95:8.2f} ms"
              f"  ratio {bolt_med / emb_med:.1f}x")
        print(f"2-hop  bolt, batched (2 queries): median {bat_med:8.2f} ms  p95 {bat_p95:8.2f} ms"
              f"  ratio {bat_med / emb_med:.1f}x")
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
