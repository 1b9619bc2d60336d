"""Replay the reliability probes against the `graphmem` command and count how each one ended.

Every probe runs the CLI in a subprocess (as a user would) and ends as one of:
  clear error   exit 2 with a one-line message (or argparse's usage error)
  ok            exit 0, and the result checks out
  traceback     a Python traceback, an 'internal error' (exit 1) or any other exit code
  wrong         invalid input accepted, valid input refused, or a wrong result
  loss          data that should have survived did not
  hang          no answer within the probe's time limit
The listed probes are the issue's families (bad input, faults, concurrent writers, a stalled or
garbled LLM server), then the third sweep's (issue 28: Cypher guard bypasses, non-UTF-8 input,
damaged .gmem entries, symlinked graph paths, unbounded Cypher, LIMIT/SKIP, hostile view names and
texts, id separators, and, in one process of their own (``fuzz_inprocess.py``), steps of every type
given to the library and bad MCP arguments); --generated N adds N random ones from the first
families and N from the third sweep's (seeded).

    .venv/bin/python scripts/fuzz_cli.py [--generated 200] [--seed 0] [--workers 2] [--issue28-only] [-v]

Exit status 0 when there is no traceback, loss or hang.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_corpus.json"
OUTCOMES = ("clear error", "ok", "traceback", "wrong", "loss", "hang")


@dataclass
class Probe:
    family: str
    name: str
    argv: list[str]
    expect: str = "either"            # "ok", "error" or "either"
    stdin: bytes = b""
    timeout: float = 180.0
    env: dict = field(default_factory=dict)
    check: Callable[["Result"], str | None] | None = None  # returns "loss"/"wrong" or None
    setup: Callable[[], None] | None = None


@dataclass
class Result:
    code: int | None
    out: str
    err: str
    seconds: float


def cli(argv: list[str], *, stdin: bytes = b"", timeout: float = 180.0, env: dict | None = None) -> Result:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "graphmem.cli", *argv], cwd=WORK, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Result(None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), timeout)
    return Result(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                  time.monotonic() - started)


def classify(probe: Probe, r: Result) -> str:
    if r.code is None:
        return "hang"
    if "Traceback (most recent call last)" in r.err or r.code not in (0, 2):
        return "traceback"
    if probe.check is not None:
        verdict = probe.check(r)
        if verdict:
            return verdict
    if r.code == 2:
        if "error:" not in r.err:
            return "traceback"
        return "wrong" if probe.expect == "ok" else "clear error"
    return "wrong" if probe.expect == "error" else "ok"


def run_probe(probe: Probe) -> tuple[Probe, Result, str]:
    if probe.setup is not None:
        probe.setup()
    r = cli(probe.argv, stdin=probe.stdin, timeout=probe.timeout, env=probe.env)
    return probe, r, classify(probe, r)


# --- fixtures shared by the probes ---------------------------------------------------------------

WORK = Path(tempfile.mkdtemp(prefix="graphmem-fuzz-"))
TW_CACHE = WORK / "tw_games"


def path(name: str) -> Path:
    return WORK / name


def write(name: str, data) -> Path:
    p = path(name)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return p


def graph_doc(n: int = 3) -> dict:
    triples = [{"id": f"t{i}", "subject": f"s{i}", "relation": "in", "object": "room", "valid_from": i,
                "valid_until": None, "sources": ["e0"]} for i in range(n)]
    return {"format": "graphmem-graph", "version": 1, "meta": {}, "triples": triples,
            "episodes": [{"id": "e0", "step": 0, "text": "x", "title": "", "triple_ids": ["t0"]}], "vectors": {}}


def prepare(games: bool = True) -> dict:
    """A built graph, a finished game log, a generated game (``games``): made once, before the probes."""
    made = {}
    made["graph"] = path("sample.json")
    r = cli(["build", str(SAMPLE), "--out", str(made["graph"])])
    assert r.code == 0, r.err
    made["small"] = write("small.json", graph_doc())
    made["wide"] = write("wide.json", graph_doc(1000))  # a cartesian product asks for a billion rows
    made["qa"] = path("qa")
    write("qa/corpus.json", [{"title": "A", "text": "Alpha is in Paris."}, {"title": "B", "text": "Beta."}])
    write("qa/questions.json", [{"id": "1", "question": "Where is Alpha?", "answer": "Paris",
                                 "paragraphs": [{"title": "A", "paragraph_text": "Alpha is in Paris.",
                                                 "is_supporting": True}]}])
    if not games:
        return made
    from graphmem_environments.textworld import generate_game

    made["game"] = generate_game("tw-cooking:recipe=1,take=1,go=1,cut", seed=1, cache_dir=TW_CACHE)
    from textworld import GameMaker

    maker = GameMaker()  # a game with no quest, so no walkthrough
    maker.set_player(maker.new_room("kitchen"))
    made["quiet"] = Path(maker.compile(str(path("quiet/quiet.z8"))))
    made["log"] = path("done.jsonl")
    r = cli(["play", "--game", str(made["game"]), "--agent", "walkthrough", "--log", str(made["log"])],
            env={"GRAPHMEM_TW_CACHE": str(TW_CACHE)})
    assert r.code == 0, r.err
    return made


# --- listed probes: the issue's families ------------------------------------------------------------

def listed(made: dict, llm_url: str) -> list[Probe]:
    g, small, game, qa = str(made["graph"]), str(made["small"]), str(made["game"]), str(made["qa"])
    probes: list[Probe] = []
    add = probes.append
    tw = {"GRAPHMEM_TW_CACHE": str(TW_CACHE)}

    # data loss: build into an existing graph, a finished log, the context manager
    before = made["graph"].read_bytes()
    add(Probe("loss", "build into existing --out", ["build", str(SAMPLE), "--out", g], "error",
              check=lambda r: "loss" if made["graph"].read_bytes() != before else None))
    log_before = made["log"].read_bytes()
    add(Probe("loss", "play --log over a finished log", ["play", "--game", str(game), "--agent", "walkthrough",
                                                          "--log", str(made["log"])], "error", env=tw,
              check=lambda r: "loss" if made["log"].read_bytes() != log_before else None))
    copy = write("done-copy.jsonl", log_before)  # probes run in parallel: each its own log
    add(Probe("loss", "play --resume of a finished log", ["play", "--game", str(game), "--agent", "walkthrough",
                                                           "--log", str(copy), "--resume"], "ok", env=tw,
              check=lambda r: "loss" if copy.read_bytes() != log_before else None))
    mem = path("ctx.json")
    add(Probe("loss", "Memory context manager saves", ["cypher", "--graph", str(mem), "--json",
                                                        "MATCH (a)-[r]->(b) RETURN a.name"], "ok",
              setup=lambda: subprocess.run([sys.executable, "-c", "from graphmem import Memory\n"
                                            f"with Memory({str(mem)!r}) as m:\n"
                                            "    m.add_triples([('a', 'is', 'b')], step=0)"],
                                           check=True),
              check=lambda r: "loss" if r.code != 0 or json.loads(r.out or "[]") != [{"a.name": "a"}] else None))

    # out-of-range numbers and wrong results
    for argv in (["eval-qa", "--data", qa, "--damping", "5"], ["eval-qa", "--data", qa, "--synonym-threshold", "7"],
                 ["build", str(SAMPLE), "--out", str(path("n1.json")), "--batch-size", "0"],
                 ["build", str(SAMPLE), "--out", str(path("n2.json")), "--batch-size", "-1"],
                 ["build", str(SAMPLE), "--out", str(path("n3.json")), "--limit", "0"],
                 ["build", str(SAMPLE), "--out", str(path("n4.json")), "--limit", "-2"],
                 ["play", "--game", str(game), "--agent", "walkthrough", "--seed", "-5"],
                 ["play", "--game", str(game), "--agent", "walkthrough", "--max-steps", "-1"],
                 ["recall", "--graph", g, "x", "--width", "-1"], ["view", "--graph", g, "--out",
                                                                  str(path("v.html")), "--max-edges", "-5"],
                 ["ask", "--graph", g, "q", "--k", "0"], ["--llm-timeout", "-1", "extract", "x"]):
        add(Probe("numbers", " ".join(argv[:2] + argv[-2:]), argv, "error"))
    for spec in ("tw-treasure_hunter:level=999", "custom:world_size=0", "tw-cooking:recipe=99", "tw-nope:x=1"):
        add(Probe("specs", spec, ["eval-memory", "--game", spec], "error", env=tw))
    spec = "tw-cooking:recipe=1,take=1,go=1,cut"
    add(Probe("specs", "eval-agents keeps a spec whole", ["eval-agents", "--games", spec, "--agents", "walkthrough",
                                                          "--seed", "1", "--json", "--out", str(path("ea"))],
              "ok", env=tw, check=lambda r: None if r.code != 0 or [row["game"] for row in json.loads(r.out)["rows"]]
              == [spec] else "wrong"))

    # malformed files
    docs = {"string version": {**graph_doc(), "version": "1"}, "null version": {**graph_doc(), "version": None},
            "future version": {**graph_doc(), "version": 7},
            "triple without relation": {**graph_doc(), "triples": [{"id": "t", "subject": "a", "object": "b"}]},
            "string valid_from": {**graph_doc(), "triples": [{**graph_doc()["triples"][0], "valid_from": "x"}]},
            "bad vectors": {**graph_doc(), "vectors": {"triples": {"dim": 2, "ids": ["t0"], "data": "%%"}}}}
    for name, doc in docs.items():
        f = write(f"bad-{len(probes)}.json", doc)
        add(Probe("graph files", name, ["cypher", "--graph", str(f), "MATCH (a) RETURN a.name"], "error"))
    corpora = {"text list of ints": [{"title": "x", "text": [1, 2]}], "deep nesting": b"[" * 100_000 + b"]" * 100_000,
               "not utf-8": b"[\"caf\xe9\"]", "a number": 3}
    for name, doc in corpora.items():
        f = write(f"corpus-{len(probes)}.json", doc)
        add(Probe("corpus", name, ["build", str(f), "--out", str(path(f"c{len(probes)}.json"))], "error"))
    bom = write("bom.json", b"\xef\xbb\xbf" + json.dumps(["The knife is on the table."]).encode())
    add(Probe("corpus", "BOM corpus", ["build", str(bom), "--out", str(path("bom-graph.json"))], "ok"))
    big = write("big.json", [{"title": "big", "text": "The knife is on the table. " * 40_000}])
    add(Probe("corpus", "passage over 1M characters", ["build", str(big), "--out", str(path("big-graph.json")),
                                                        "--no-passage-embeddings"], "ok", timeout=600))
    add(Probe("stdin", "non-UTF-8 stdin", ["extract", "-"], "ok", stdin=b"The caf\xe9 door is open."))
    for name, qs in {"paragraphs empty": [{"paragraphs": []}], "strings": ["text"], "object": {"a": 1}}.items():
        folder = path(f"q-{len(probes)}")
        write(f"{folder.name}/questions.json", qs)
        shutil.copy(made["qa"] / "corpus.json", folder / "corpus.json")
        add(Probe("questions", name, ["eval-qa", "--data", str(folder), "--retriever", "bm25"], "error"))
    add(Probe("games", "a .z8 that is not a game", ["play", "--game", str(write("bad.z8", b"not a game")),
                                                     "--agent", "walkthrough"], "error"))
    add(Probe("games", "eval-memory without walkthrough", ["eval-memory", "--game", str(made["quiet"])], "error"))

    # unwritable outputs, checked before the work
    blocker = write("blocker", b"x")
    for argv in (["build", str(SAMPLE), "--out", str(blocker / "x.json")], ["view", "--graph", g, "--out", str(WORK)],
                 ["eval-agents", "--games", str(game), "--agents", "walkthrough", "--out", str(blocker)],
                 ["play", "--game", str(game), "--agent", "walkthrough", "--log", str(WORK)],
                 ["import", "--from", "bolt://127.0.0.1:1", "--out", str(WORK)]):
        add(Probe("outputs", " ".join(argv[:1] + argv[-2:]), argv, "error", timeout=60))

    # Cypher guard and dialect
    for q in ("CALL apoc.cypher.runWrite('CREATE (n)', {})", "CALL db.createLabel('X')", "STOP DATABASE neo4j",
              "MATCH (n) /* x */ DETACH DELETE n", "match (n) set n.x = 1", "MATCH (n) CALL { CREATE (m) } RETURN n"):
        add(Probe("cypher", q, ["cypher", "--graph", small, q], "error",
                  check=lambda r: "wrong" if r.code == 2 and "read-only" not in r.err else None))
    add(Probe("cypher", "count(r) lower case", ["cypher", "--graph", small, "--json",
                                                "MATCH (a)-[r]->(b) RETURN count(r)"], "ok",
              check=lambda r: None if r.code != 0 or json.loads(r.out) == [{"COUNT(r)": 3}] else "wrong"))

    # Cypher bounds: a cartesian product stops at its time or memory limit, too many rows are refused
    wide, cartesian = str(made["wide"]), "MATCH (a) MATCH (b) MATCH (c) RETURN count(a)"
    for bound in (["--timeout", "2", "--max-memory", "0"], ["--max-memory", "50"], ["--max-rows", "5"]):
        query = "MATCH (a) RETURN a.name" if bound[0] == "--max-rows" else cartesian
        add(Probe("cypher", f"bounded by {bound[0]}", ["cypher", "--graph", wide, *bound, query], "error", timeout=60,
                  check=lambda r, option=bound[0]: "wrong" if r.code == 2 and option not in r.err else None))

    # a stalled or garbled LLM server: bounded by --llm-timeout, never a traceback
    llm = ["--llm", "openai:m", "--llm-timeout", "3", "--no-cache", "extract", "--extractor", "llm"]
    env = {"OPENAI_BASE_URL": llm_url}
    for i, kind in enumerate(("stall", "html", "bad json", "no choices", "empty choices", "drop")):
        add(Probe("llm", kind, [*llm, f"{kind} probe {i}"], "error", env=env, timeout=30))
    return probes


# --- generated probes --------------------------------------------------------------------------

NUMBER_OPTIONS = [("build", "--batch-size", "int1"), ("build", "--limit", "int1"), ("recall", "--width", "int1"),
                  ("recall", "--depth", "int0"), ("recall", "--top-k", "int1"), ("view", "--max-edges", "int1"),
                  ("ask", "--k", "int1"), ("eval-qa", "--damping", "open01"), ("eval-qa", "--synonym-threshold", "cos"),
                  ("eval-qa", "--passage-weight", "pos"), ("eval-qa", "--fact-top-k", "int0"),
                  ("play", "--max-steps", "int1"), ("play", "--seed", "int0"), ("eval-memory", "--seed", "int0"),
                  ("eval-agents", "--runs", "int1"), ("global", "--llm-timeout", "posopen")]
NUMBERS = ["-1000000000000", "-5", "-1", "0", "0.5", "1", "7", "1e309", "nan", "inf", "-inf", "abc", "", "3.0", "99999"]


def _valid(kind: str, text: str) -> bool:
    try:
        value = float(text) if kind in ("open01", "cos", "pos", "posopen") else int(text)
    except ValueError:
        return False
    if value != value:
        return False
    return {"int1": value >= 1, "int0": value >= 0, "open01": 0 < value < 1, "cos": -1 <= value <= 1,
            "pos": 0 <= value < float("inf") or value == float("inf"), "posopen": value > 0}[kind]


def random_json(rng: random.Random, depth: int = 0):
    kinds = ["null", "bool", "int", "float", "str"] + (["list", "dict"] * 2 if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "dict":
        keys = ["title", "text", "id", "question", "paragraphs", "supporting_facts", "format", "version",
                "triples", "subject", "relation", "object", "valid_from", "game", "walkthrough", "x"]
        return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return {"null": None, "bool": rng.random() < 0.5, "int": rng.randint(-3, 3), "float": rng.random(),
            "str": rng.choice(["", "a", "The key is in the box.", "\u00e9\u4e2d", "1"])}[kind]


def generated(n: int, seed: int, made: dict, llm_url: str) -> list[Probe]:
    rng = random.Random(seed)
    small, qa = str(made["small"]), str(made["qa"])
    tw = {"GRAPHMEM_TW_CACHE": str(TW_CACHE)}
    probes: list[Probe] = []
    families = ["numbers", "numbers", "corpus", "graph files", "cypher", "cypher", "questions", "specs",
                "stdin", "games", "tasks", "llm"]
    for i in range(n):
        family = rng.choice(families)
        if family == "numbers":
            cmd, opt, kind = rng.choice(NUMBER_OPTIONS)
            value = rng.choice(NUMBERS)
            # Inputs that do not exist: a valid number ends in a quick clear error, not a long run.
            base = {"build": ["build", str(path("none.json")), "--out", str(path(f"o{i}.json"))],
                    "recall": ["recall", "--graph", str(path("none.json")), "q"],
                    "view": ["view", "--graph", str(path("none.json")), "--out", str(path(f"v{i}.html"))],
                    "ask": ["ask", "--graph", str(path("none.json")), "q"],
                    "eval-qa": ["eval-qa", "--data", str(path("nodata"))],
                    "play": ["play", "--game", str(path("none.z8")), "--agent", "walkthrough"],
                    "eval-memory": ["eval-memory", "--game", str(path("none.z8"))],
                    "eval-agents": ["eval-agents", "--games", str(path("none.z8")), "--agents", "walkthrough",
                                    "--out", str(path(f"ea{i}"))],
                    "global": ["extract", "x"]}[cmd]
            argv = [f"{opt}={value}", *base] if cmd == "global" else [*base, f"{opt}={value}"]
            valid = _valid(kind, value)
            probes.append(Probe(family, f"{cmd} {opt}={value}", argv, "either" if valid else "error",
                                check=(None if valid else
                                       lambda r, opt=opt: "wrong" if r.code == 2 and f"argument {opt}" not in r.err
                                       else None)))
        elif family == "corpus":
            doc = random_json(rng) if rng.random() < 0.8 else rng.randbytes(rng.randint(0, 20))
            f = write(f"gen/corpus{i}.json", doc)
            probes.append(Probe(family, f"corpus {str(doc)[:40]}", ["build", str(f), "--out", str(path(f"gen/g{i}.json")),
                                                                     "--limit", "1", "--no-passage-embeddings"]))
        elif family == "graph files":
            doc = graph_doc()
            records = doc["triples"] + doc["episodes"]
            for _ in range(rng.randint(1, 3)):
                target = doc if rng.random() < 0.4 else rng.choice(records)
                target[rng.choice(list(target) + ["x"])] = random_json(rng)
            f = write(f"gen/graph{i}.json", doc)
            probes.append(Probe(family, f"graph {json.dumps(doc)[:50]}", ["cypher", "--graph", str(f), "--json",
                                                                          "MATCH (a)-[r]->(b) RETURN a.name, r.relation"]))
        elif family == "cypher":
            write_words = ["CREATE (x)", "SET a.x = 1", "DELETE r", "DETACH DELETE a", "MERGE (x)", "REMOVE a.x",
                           "CALL apoc.do.it()", "CALL db.createProperty('p')", "STOP DATABASE d", "DROP INDEX i",
                           "FOREACH (x IN [] | SET a.y = 1)"]
            reads = ["MATCH (a)-[r]->(b) RETURN a.name", "MATCH (a) WHERE a.name = 'create set' RETURN a.name",
                     "MATCH (a)-[r*1..2]->(b) RETURN count(b)", "MATCH (a RETURN a", "RETURN 1",
                     "MATCH (a)-[r]->(b) WHERE r.valid_until IS NULL RETURN b.name LIMIT 2", "CALL db.labels()"]
            w = rng.choice(write_words)
            trick = rng.choice(["{}", "{}".lower(), "/* c */ {}", "MATCH (a) {} RETURN a", "MATCH (a)\n{}",
                                "MATCH (a) CALL {{ {} }} RETURN a"])
            if rng.random() < 0.5:
                q = trick.format(w.lower() if trick == "{}".lower() else w)
                probes.append(Probe(family, q, ["cypher", "--graph", small, q], "error",
                                    check=lambda r: "wrong" if r.code == 2 and "read-only" not in r.err else None))
            else:
                q = rng.choice(reads)
                probes.append(Probe(family, q, ["cypher", "--graph", small, q]))
        elif family == "questions":
            folder = path(f"gen/qa{i}")
            qs = random_json(rng) if rng.random() < 0.5 else [random_json(rng) for _ in range(2)]
            write(f"gen/qa{i}/questions.json", qs)
            shutil.copy(Path(qa) / "corpus.json", folder / "corpus.json")
            probes.append(Probe(family, f"questions {str(qs)[:40]}", ["eval-qa", "--data", str(folder), "--retriever",
                                                                      "bm25", "--json"]))
        elif family == "specs":
            kind = rng.choice(["tw-cooking", "tw-treasure_hunter", "custom", "tw-coin_collector", "tw-x", "", "tw-"])
            opts = rng.sample(["recipe=9", "take=1", "go=2", "level=0", "level=500", "world_size=-1", "nb_objects=x",
                               "quest_length=0", "cut", "seed=3", "bogus=1", "=", ",,", "level="], rng.randint(1, 3))
            spec = f"{kind}:{','.join(opts)}"
            probes.append(Probe(family, spec, ["eval-memory", "--game", spec], env=tw, timeout=300))
        elif family == "stdin":
            data = rng.randbytes(rng.randint(0, 60)) if rng.random() < 0.5 else \
                rng.choice(["The caf\xe9 door is open.", "\u4e2d\u6587 is in the box.", ""]).encode(
                    rng.choice(["utf-8", "latin-1", "utf-16"]), "replace")
            probes.append(Probe(family, f"stdin {data[:20]!r}", ["extract", "-"], "ok", stdin=data))
        elif family == "games":
            body = rng.choice([rng.randbytes(rng.randint(0, 200)), bytes([rng.randint(1, 8)]) + rng.randbytes(100),
                               b"Glul" + rng.randbytes(10)])
            f = write(f"gen/game{i}.z8", body)
            probes.append(Probe(family, f"game {body[:8]!r}", ["play", "--game", str(f), "--agent", "walkthrough"],
                                "error"))
        elif family == "tasks":
            f = write(f"gen/tasks{i}.json", {"t": random_json(rng)} if rng.random() < 0.7 else random_json(rng))
            probes.append(Probe(family, f"tasks {f.read_text()[:40]}", ["eval-memory", "--game", "t", "--tasks", str(f)],
                                env=tw))
        else:  # llm
            kind = rng.choice(["stall", "html", "bad json", "no choices", "empty choices", "drop", "ok", "error500",
                               "error400"])
            probes.append(Probe(family, kind, ["--llm", "openai:m", "--llm-timeout", "3", "--no-cache", "extract",
                                               "--extractor", "llm", f"{kind} probe g{i}"],
                                "ok" if kind == "ok" else "error", env={"OPENAI_BASE_URL": llm_url}, timeout=30))
    return probes


# --- the third sweep's families (issue 28): each group's class of input, generated ---------------

# Every character some Cypher lexer may end a // comment with.
TERMINATORS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
WRITE_CLAUSES = ["DETACH DELETE n", "DELETE n", "SET n.x = 1", "CREATE (m)", "MERGE (m {name: 'x'})",
                 "REMOVE n.name", "FOREACH (x IN [1] | CREATE (m))", "CALL { CREATE (m) }",
                 "LOAD CSV FROM 'file:///x' AS row CREATE (m)", "DROP INDEX i", "STOP DATABASE neo4j",
                 "TERMINATE TRANSACTIONS 'x'", "GRANT ALL ON DATABASE * TO x"]
# Procedures and functions that run Cypher or change the graph, in the spellings a lexer accepts.
WRITE_CALLS = ["CALL apoc.cypher.runWrite('CREATE (m)', {})", "CALL apoc.cypher.doIt('CREATE (m)', {})",
               "CALL apoc.cypher.run('CREATE (m)', {})", "CALL apoc.periodic.iterate('MATCH (x) RETURN x', "
               "'DETACH DELETE x', {})", "CALL apoc.periodic.commit('MATCH (x) DELETE x', {})",
               "CALL apoc.create.node(['X'], {})", "CALL apoc.merge.node(['X'], {name: 'x'})",
               "CALL apoc.refactor.rename.label('A', 'B')", "CALL apoc.trigger.add('t', 'CREATE (m)', {})",
               "CALL apoc.do.when(true, 'CREATE (m)', '', {})", "CALL db.createLabel('X')",
               "CALL dbms.setConfigValue('a', 'b')", "CALL `apoc`.`cypher`.`runWrite`('CREATE (m)', {})",
               "CALL apoc . cypher . runWrite('CREATE (m)', {})", "CALL apoc.cypher.runWrite\n('CREATE (m)', {})",
               "RETURN apoc.cypher.runFirstColumnSingle('CREATE (m) RETURN m', {})",
               "RETURN apoc.create.vNode(['X'], {})", "WITH apoc.periodic.submit('j', 'CREATE (m)') AS j RETURN j"]
ODD_SPACES = ["\t", "\u00a0", "\u2003", "\u3000", "\u200b", "\u180e", "\ufeff", "\x0c"]
# Reads that look like writes to a careless guard: refusing them is wrong too.
GUARDED_READS = ["MATCH (n) WHERE n.name = 'DETACH DELETE n' RETURN n.name",
                 "MATCH (n) // DETACH DELETE n\nRETURN n.name", "MATCH (n) /* SET n.x = 1 */ RETURN n.name",
                 "MATCH (n) WHERE n.name = '// x' RETURN n.name", "MATCH (n) RETURN n.name AS `CREATE`",
                 "RETURN toLower('CREATE (m)') AS x", "MATCH (n) WHERE n.name STARTS WITH 'set' RETURN n.name"]


def _mixed_case(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def guard_bypass(rng: random.Random) -> str:
    """A write hidden the way a lexer difference or a loose guard would let it through."""
    write = rng.choice(WRITE_CLAUSES + WRITE_CALLS)
    form = rng.choice(["comment", "comment", "block", "string", "case", "space", "escape", "plain"])
    if form == "comment":
        note = rng.choice(["", " note", " */", " '"])
        return f"MATCH (n) //{note}{rng.choice(TERMINATORS)}{write}"
    if form == "block":
        return f"MATCH (n) /*{rng.choice(['', ' x ', '*', '//'])}*/{rng.choice(['', ' '])}{write}"
    if form == "string":
        quoted = rng.choice(["'//'", "'/*'", '"//"', "'it\\'s // x'", "'*/'", '"\\"//"'])
        return f"MATCH (n) WHERE n.name = {quoted} {write}"
    if form == "case":
        return f"MATCH (n) {_mixed_case(rng, write)}"
    if form == "space":
        return f"MATCH (n){rng.choice(ODD_SPACES)}{write.replace(' ', rng.choice(ODD_SPACES), 1)}"
    if form == "escape":  # Java lexers decode \uXXXX before lexing
        at = next(i for i, c in enumerate(write) if c.isalpha())
        return f"MATCH (n) {write[:at]}\\u{ord(write[at]):04x}{write[at + 1:]}"
    return f"MATCH (n) {write}"


# What the write guard (``store.cypher_guard``) says, through a server store and through a graph file.
GUARD_SAYS = ("may write", "answers read-only Cypher")


def guard_probe(graph: str, query: str) -> Probe:
    """A query that may write, without --write: refused by the guard, not by chance."""
    return Probe("cypher guard", query, ["cypher", "--graph", graph, query], "error",
                 check=lambda r: "wrong" if r.code != 2 or not any(s in r.err for s in GUARD_SAYS) else None)


def cypher_slices(made: dict, rng: random.Random) -> Probe:
    """SKIP/LIMIT of any sign: a negative one is refused, others slice the ordered answer exactly."""
    skip, limit = rng.randint(-3, 4), rng.randint(-3, 4)
    parts = ([f"SKIP {skip}"] if rng.random() < 0.7 else []) + ([f"LIMIT {limit}"] if rng.random() < 0.7 else [])
    query = "MATCH (a)-[r]->(b) RETURN a.name ORDER BY a.name " + " ".join(parts)
    negative = (skip < 0 and "SKIP" in query) or (limit < 0 and "LIMIT" in query)
    names = ["s0", "s1", "s2"]
    start = skip if "SKIP" in query else 0
    expected = names[start:start + limit] if "LIMIT" in query else names[start:]

    def check(r: Result) -> str | None:
        if r.code == 0 and [row["a.name"] for row in json.loads(r.out)] != expected:
            return "wrong"
        return None
    return Probe("cypher slices", query, ["cypher", "--graph", str(made["small"]), "--json", query],
                 "error" if negative else "ok", check=check)


# Products of the 1000-fact graph's ~1000 nodes with itself (must stop at a bound), and other queries
# that could run long (they may answer, or be refused as beyond the embedded dialect).
PRODUCTS = ["MATCH (a) MATCH (b) MATCH (c) RETURN count(a)", "MATCH (a) MATCH (b) MATCH (c) MATCH (d) RETURN count(a)",
            "MATCH (a) MATCH (b) MATCH (c) RETURN a.name, b.name, c.name ORDER BY a.name"]
UNBOUNDED = ["MATCH (a), (b) RETURN a.name, b.name", "MATCH (a), (b), (c) RETURN count(*)",
             "MATCH (a) WITH collect(a) AS xs UNWIND xs AS x UNWIND xs AS y UNWIND xs AS z RETURN count(*)",
             "UNWIND range(1, 1000000000) AS x RETURN count(x)", "MATCH (a)-[*]-(b) RETURN count(*)"]
BOUNDS = ("--timeout", "--max-memory", "--max-rows")


def unbounded(made: dict, query: str) -> Probe:
    """A query over the 1000-fact graph with a 3 s limit: a product stops at a bound with a message
    naming it; the others answer or end in a clear error, well within the probe's time."""
    product = query in PRODUCTS
    return Probe("cypher bounds", query, ["cypher", "--graph", str(made["wide"]), "--timeout", "3", query],
                 "error" if product else "either", timeout=90,
                 check=lambda r: "wrong" if product and r.code == 2 and not any(b in r.err for b in BOUNDS) else None)


def non_utf8(made: dict, rng: random.Random, i: int) -> Probe:
    """Bytes that are not UTF-8 (carried in str as surrogate escapes, as Python decodes argv) in
    arguments, file names and files, and lone surrogates in a corpus."""
    bad = os.fsdecode(rng.choice([b"caf\xe9", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"a\x80b"]))
    kind = rng.choice(["extract", "recall", "cypher", "txt name", "out name", "graph name", "json surrogate",
                       "txt bytes", "llm spec"])
    g, small = str(made["graph"]), str(made["small"])
    if kind == "extract":
        return Probe("non-utf-8", f"extract {bad!r}", ["extract", f"The {bad} door is open."])
    if kind == "recall":
        return Probe("non-utf-8", f"recall {bad!r}", ["recall", "--graph", g, bad])
    if kind == "cypher":
        return Probe("non-utf-8", f"cypher {bad!r}", ["cypher", "--graph", small, f"MATCH (n) WHERE n.name = '{bad}' "
                                                                                   "RETURN n.name"])
    if kind == "graph name":
        return Probe("non-utf-8", f"--graph {bad!r}", ["cypher", "--graph", str(path(f"none-{bad}.json")),
                                                      "RETURN 1"], "error")
    if kind == "out name":
        return Probe("non-utf-8", f"view --out {bad!r}", ["view", "--graph", small, "--out",
                                                         str(path(f"gen/v{i}-{bad}.html"))])
    folder = path(f"gen/utf{i}")
    if kind in ("txt name", "txt bytes"):
        name = f"{bad}.txt" if kind == "txt name" else "doc.txt"
        body = b"The key is in the box." if kind == "txt name" else os.fsencode(f"The {bad} key is in the box.")
        write(f"{folder.name}/{name}", body)
        return Probe("non-utf-8", f"{kind} {bad!r}", ["build", str(folder), "--out", str(path(f"gen/u{i}.json")),
                                                      "--no-passage-embeddings"])
    if kind == "json surrogate":
        doc = rng.choice([b'[{"title": "\\ud800", "text": "The key is in the box."}]',
                          b'[{"title": "t", "text": "caf\\udfff is open. The key is in the box."}]',
                          b'["\\udc00\\ud800 The key is in the box."]', b'[{"title": "\\ud83d", "text": "\\ude00"}]'])
        f = write(f"gen/sur{i}.json", doc)
        return Probe("non-utf-8", f"corpus {doc[:30]!r}", ["build", str(f), "--out", str(path(f"gen/s{i}.json")),
                                                          "--no-passage-embeddings"])
    return Probe("non-utf-8", f"--llm {bad!r}", ["--llm", f"openai:{bad}", "--no-cache", "extract", "--extractor",
                                                 "llm", "x"], env={"OPENAI_BASE_URL": "http://127.0.0.1:1"},
                 timeout=60)


def damaged_archive(made: dict, rng: random.Random, i: int) -> Probe:
    """A .gmem with one byte flipped in one entry (or anywhere, or cut short): refused with a clear
    error, or, where the damage is in bytes this command never reads, the same answer as before."""
    import zipfile

    data = bytearray(made["gmem"].read_bytes())
    with zipfile.ZipFile(made["gmem"]) as z:
        entries = [e for e in z.infolist() if e.file_size]
    how = rng.choice(["entry"] * 4 + ["anywhere", "cut"])
    if how == "entry":
        entry = entries[i % len(entries)]
        name_len, extra_len = struct.unpack("<HH", data[entry.header_offset + 26:entry.header_offset + 30])
        start = entry.header_offset + 30 + name_len + extra_len
        at = start + rng.randrange(entry.file_size)
        what = f"{entry.filename} byte {at - start}"
    else:
        at = rng.randrange(len(data))
        what = f"byte {at} of the file"
    if how == "cut":
        data = data[:at]
        what = f"cut at {at}"
    else:
        data[at] ^= 1 << rng.randrange(8)
    f = write(f"gen/damaged{i}.gmem", bytes(data))
    command = rng.choice(["cypher", "recall"])
    argv = (["cypher", "--graph", str(f), "--json", ALL_FACTS] if command == "cypher"
            else ["recall", "--graph", str(f), "--json", "where is the key"])
    return Probe("damaged .gmem", f"{command}: {what}", argv,
                 check=lambda r: "wrong" if r.code == 0 and r.out != made[f"gmem {command}"] else None)


ALL_FACTS = "MATCH (a)-[r]->(b) RETURN a.name, r.relation, b.name, r.valid_until ORDER BY a.name, b.name"


def symlinked(made: dict, kind: str, i: int) -> Probe:
    """Graph paths that are links: writes go to the real file and leave the link a link; a writer
    through a link meets the lock of a writer through the real path."""
    real = write(f"links/real{i}.gmem", made["gmem"].read_bytes())
    link = path(f"links/link{i}.gmem")
    link.symlink_to(real)
    before = real.read_bytes()
    corpus = str(made["qa"] / "corpus.json")
    if kind == "add through a link":
        def check(r: Result) -> str | None:
            if not link.is_symlink():
                return "loss"
            return "wrong" if r.code == 0 and real.read_bytes() == before else None
        return Probe("symlinks", kind, ["add", "--graph", str(link), corpus, "--quiet"], "ok", check=check)
    if kind in ("add through a link while the file is held", "add to the file while a link is held"):
        held, used = (real, link) if kind.startswith("add through") else (link, real)
        holder: list[subprocess.Popen] = []

        def hold() -> None:
            proc = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom graphmem import Memory\n"
                                     f"m = Memory({str(held)!r})\nprint('ready', flush=True)\ntime.sleep(120)"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
            holder.append(proc)
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"

        def release(r: Result) -> str | None:
            os.killpg(holder[0].pid, signal.SIGKILL)
            holder[0].wait()
            return "loss" if real.read_bytes() != before else None
        return Probe("symlinks", kind, ["add", "--graph", str(used), corpus, "--quiet"], "error", setup=hold,
                     check=release)
    if kind == "link loop":
        loop = path(f"links/loop{i}.gmem")
        loop.symlink_to(path(f"links/loop{i}b.gmem"))
        path(f"links/loop{i}b.gmem").symlink_to(loop)
        return Probe("symlinks", kind, ["cypher", "--graph", str(loop), "RETURN 1"], "error")
    dangling = path(f"links/dangling{i}.json")
    dangling.symlink_to(path(f"links/target{i}.json"))
    return Probe("symlinks", kind, ["build", corpus, "--out", str(dangling), "--no-passage-embeddings"],
                 check=lambda r: "wrong" if r.code == 0 and not (dangling.is_symlink() and dangling.exists()) else None)


SYMLINK_KINDS = ["add through a link", "add through a link while the file is held",
                 "add to the file while a link is held", "link loop", "build --out a dangling link"]
HOSTILE = ["__DATA__", "__TITLE__", "__SUMMARY__", "<!--<script>", "</script><img src=x onerror=alert(1)>",
           "<script>alert(1)</script>", "\u2028\u2029", "${document.cookie}", "</title><svg onload=alert(1)>",
           "-->", "<!--", "]]>", "\\u003c/script>", "'; alert(1); '"]


def hostile_view(made: dict, rng: random.Random, i: int) -> Probe:
    """A graph file named with, and a passage and a fact holding, markup or the page's placeholders:
    the page shows them as text (none appears raw, and the page has the template's scripts only)."""
    name, text, fact = (rng.choice(HOSTILE) for _ in range(3))
    doc = graph_doc(1)
    doc["episodes"][0]["text"], doc["episodes"][0]["title"] = text, name
    doc["triples"][0]["subject"] = fact
    f = write(f"gen/view{i}/{name.replace('/', '_')}.json", doc)
    out = path(f"gen/view{i}/page.html")

    def check(r: Result) -> str | None:
        if r.code != 0:
            return None
        page = out.read_text(encoding="utf-8")
        raw = [h for h in (name, text, fact) if "<" in h and h in page]
        return "wrong" if raw or page.lower().count("<script") != made["view scripts"] else None
    return Probe("hostile view", f"name {name!r} text {text!r} fact {fact!r}",
                 ["view", "--graph", str(f), "--out", str(out)], "ok", check=check)


def id_collision(rng: random.Random, i: int) -> Probe:
    """Passages that differ only in where a separator character sits are all kept."""
    sep = rng.choice(["\x1f", "\x1e", "\x00", "|", ":", "\n", " "])
    words = ["alpha", "beta", "gamma"]
    a, b = rng.sample(range(1, 3), 2)
    items = [{"title": sep.join(words[:a]), "text": sep.join(words[a:]) + " is here."},
             {"title": sep.join(words[:b]), "text": sep.join(words[b:]) + " is here."}]
    f = write(f"gen/ids{i}.json", items)
    return Probe("id collisions", f"separator {sep!r}", ["build", str(f), "--out", str(path(f"gen/ids{i}-g.json")),
                                                           "--no-passage-embeddings", "--no-chunking"], "ok",
                 check=lambda r: "loss" if r.code == 0 and json.loads(r.out)["added"] != 2 else None)


STEP_VALUES = [0, 1, 7, 2**53, 2**53 + 1, 2**63, -1, -(2**63), 1.5, 2.0, float("nan"), float("inf"), "3", "", None,
               True, False, [], {}, "1e3", 10**30]


def step_cases(rng: random.Random, n: int) -> list[dict]:
    writes = ["observe", "add_triples", "observe_many", "recall_at"]
    return [{"kind": "step", "write": w, "step": v} for w in writes for v in STEP_VALUES] + \
        [{"kind": "step", "write": rng.choice(writes), "step": rng.choice(STEP_VALUES)} for _ in range(n)]


MCP_VALUES = [None, True, False, 0, -1, 1, 2**63, 1.5, "", "x", "\ud800", os.fsdecode(b"caf\xe9"), [], [""], [[]],
              [["a", "b"]], [["a", "b", "c", "d"]], [[1, 2, 3]], {}, {"a": 1}, "x" * 100_000, [None], ["q"] * 1000]
MCP_TOOLS = {"observe": ["text", "step", "title", "speaker", "time", "session", "reference_time", "trust",
                         "namespace"],
             "add_triples": ["triples", "step", "reference_time", "namespace"],
             "recall": ["queries", "depth", "width", "top_k", "valid_at", "max_tokens", "cursor", "namespace"],
             "history": ["entity", "max_tokens", "cursor", "namespace"], "forget": ["source_id", "namespace"],
             "cypher": ["query", "max_tokens", "cursor", "namespace"], "ask": ["question", "k", "namespace"],
             "export": ["cursor", "limit", "max_tokens", "namespace"], "import": ["records", "merge", "namespace"],
             "status": ["namespace"]}
MCP_LISTED = [("observe", {"text": "The knife is on the table.", "step": 2**63}, "error"),
              ("observe", {"text": "The knife is on the table.", "step": True}, "error"),
              ("observe", {"text": "The knife is on the table.", "step": 1.5}, "error"),
              ("observe", {"text": "The knife is on the table.", "step": -1}, "error"),
              ("observe", {"text": None}, "error"), ("recall", {"queries": ["knife"], "width": 0}, "error"),
              ("recall", {"queries": ["knife"], "depth": -1}, "error"),
              ("recall", {"queries": ["knife"], "width": True}, "error"), ("recall", {"queries": []}, "error"),
              ("cypher", {"query": "MATCH (n) // note\rDETACH DELETE n"}, "error"),
              ("cypher", {"query": "MATCH (n) RETURN n.name LIMIT -1"}, "error"),
              ("cypher", {"query": "MATCH (n) RETURN n.name SKIP -2"}, "error"),
              ("cypher", {"query": "CALL apoc.periodic.iterate('MATCH (x) RETURN x', 'DELETE x', {})"}, "error"),
              ("add_triples", {"triples": [["knife", "on", "table"]], "step": "3"}, "either"),  # read as 3
              ("history", {"entity": "knife"}, "ok"), ("forget", {"source_id": "no such source"}, "either")]


def mcp_cases(rng: random.Random, n: int) -> list[dict]:
    cases = [{"kind": "mcp", "tool": t, "arguments": a, "expect": e} for t, a, e in MCP_LISTED]
    for _ in range(n):
        tool = rng.choice(list(MCP_TOOLS))
        names = rng.sample(MCP_TOOLS[tool], rng.randint(0, min(3, len(MCP_TOOLS[tool]))))
        arguments = {k: rng.choice(MCP_VALUES) for k in names + (["bogus"] if rng.random() < 0.1 else [])}
        cases.append({"kind": "mcp", "tool": tool, "arguments": arguments, "expect": "either"})
    return cases


def in_process(family: str, cases: list[dict], graph: Path) -> list[tuple[Probe, Result, str]]:
    """Run ``cases`` in one process (``fuzz_inprocess.py``); one result per case, and one for the
    graph's check after them."""
    job = json.dumps({"graph": str(graph), "cases": cases}).encode()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "fuzz_inprocess.py")], cwd=WORK,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(job, timeout=600)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    names = [f"{c.get('write', c.get('tool'))} {json.dumps(c.get('step', c.get('arguments')))[:80]}"
             for c in cases] + ["the graph after them"]
    seconds = time.monotonic() - started
    results = []
    for n, name in enumerate(names):
        if n < len(lines):
            verdict, detail = lines[n]["verdict"], lines[n]["detail"]
        else:  # the process died or hung before this case
            verdict, detail = ("hang" if code is None else "traceback"), err.decode("utf-8", "replace")[-300:]
        results.append((Probe(family, name, []), Result(code, "", detail, seconds), verdict))
    return results


def third_sweep(made: dict, n: int, seed: int) -> list[Probe]:
    """The listed forms of each family, then ``n`` generated ones."""
    rng = random.Random(seed + 28)
    small = str(made["small"])
    probes = [guard_probe(small, f"MATCH (n) // note{t}DETACH DELETE n") for t in TERMINATORS]
    probes += [guard_probe(small, call) for call in WRITE_CALLS]
    probes += [Probe("cypher guard", q, ["cypher", "--graph", small, q],
                     check=lambda r: "wrong" if any(s in r.err for s in GUARD_SAYS) else None) for q in GUARDED_READS]
    probes += [unbounded(made, q) for q in PRODUCTS + UNBOUNDED]
    probes += [Probe("cypher slices", q, ["cypher", "--graph", small, "--json", q], expect)
               for q, expect in (("MATCH (a) RETURN a.name LIMIT -1", "error"), ("MATCH (a) RETURN a.name SKIP -1", "error"),
                                 ("MATCH (a) RETURN a.name SKIP 1 LIMIT -2", "error"),
                                 ("MATCH (a) RETURN a.name LIMIT 1.5", "error"))]
    probes += [symlinked(made, kind, i) for i, kind in enumerate(SYMLINK_KINDS)]
    probes += [damaged_archive(made, rng, i) for i in range(made["gmem entries"])]  # one per entry, in turn
    makers = [lambda i: guard_probe(small, guard_bypass(rng)), lambda i: cypher_slices(made, rng), lambda i: non_utf8(made, rng, i),
              lambda i: damaged_archive(made, rng, i), lambda i: hostile_view(made, rng, i),
              lambda i: id_collision(rng, i)]
    for i in range(n):
        probes.append(rng.choice(makers)(1000 + i))
    return probes


def prepare_third(made: dict) -> None:
    """A .gmem copy of the sample graph and the answers it gives undamaged; the view template's
    script count."""
    import zipfile

    made["gmem"] = path("sample.gmem")
    r = cli(["import", "--from", str(made["graph"]), "--out", str(made["gmem"])])
    assert r.code == 0, r.err
    for command, argv in (("cypher", ["cypher", "--graph", str(made["gmem"]), "--json", ALL_FACTS]),
                          ("recall", ["recall", "--graph", str(made["gmem"]), "--json", "where is the key"])):
        r = cli(argv)
        assert r.code == 0, r.err
        made[f"gmem {command}"] = r.out
    with zipfile.ZipFile(made["gmem"]) as z:
        made["gmem entries"] = sum(1 for e in z.infolist() if e.file_size)
    page = path("plain.html")
    r = cli(["view", "--graph", str(made["small"]), "--out", str(page)])
    assert r.code == 0, r.err
    made["view scripts"] = page.read_text(encoding="utf-8").lower().count("<script")


FAULTS = {"stall": ("stall", 30.0, ("late",), {}), "html": ("raw", b"<html>502</html>", "text/html"),
          "bad json": ("raw", b'{"choices": [', "application/json"),
          "no choices": ("raw", b"{}", "application/json"),
          "empty choices": ("raw", b'{"choices": []}', "application/json"), "drop": ("drop",),
          "ok": ("reply", ('{"triples": [["key", "in", "box"]]}',), {}),
          "error500": ("error", 500, "boom"), "error400": ("error", 400, "bad request")}


def fault_for(body: dict) -> tuple:
    """The test chat server's step for a request: the fault its text names ('stall probe 3')."""
    text = json.dumps(body["messages"])
    return FAULTS[next((k for k in FAULTS if f"{k} probe" in text), "ok")]


def concurrent_builds() -> list[tuple[Probe, Result, str]]:
    """Two builds into one file at once: each either saved its graph or failed clearly, and the file
    holds the graph of a build that reported success."""
    out = path("race.json")
    argv = ["build", str(SAMPLE), "--out", str(out)]
    probe = Probe("loss", "two builds into one --out at once", argv)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: cli(argv), range(2)))
    verdicts = []
    for r in results:
        verdict = classify(probe, r)
        if verdict == "ok" and not out.exists():
            verdict = "loss"
        verdicts.append((probe, r, verdict))
    if sum(r.code == 0 for r in results) > 1:  # both claimed success: one of them was overwritten
        verdicts[-1] = (probe, results[-1], "loss")
    return verdicts


def killed_build() -> tuple[Probe, Result, str]:
    """SIGKILL in the middle of a build over an existing graph leaves the old file byte-identical."""
    out = path("killed.json")
    shutil.copy(path("sample.json"), out)
    before = out.read_bytes()
    probe = Probe("loss", "build killed mid-way (--force)", [])
    proc = subprocess.Popen([sys.executable, "-m", "graphmem.cli", "build", str(SAMPLE), "--out", str(out), "--force"],
                            cwd=WORK, stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    time.sleep(3)
    proc.kill()
    proc.wait()
    after = out.read_bytes()
    ok = after == before or json.loads(after).get("format") == "graphmem-graph"
    return probe, Result(proc.returncode, "", "", 3), "ok" if ok else "loss"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--generated", type=int, default=200, help="random probes on top of the listed ones")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every probe, not only the bad ones")
    ap.add_argument("--issue28-only", action="store_true",
                    help="only the third sweep's families (guard bypasses, steps, non-UTF-8, damaged .gmem, links, "
                         "Cypher bounds and slices, the view, ids, MCP arguments)")
    args = ap.parse_args()
    os.environ["GRAPHMEM_CACHE_DIR"] = str(WORK / "cache")
    os.environ["GRAPHMEM_CRASH_DIR"] = str(WORK / "crashes")
    started = time.monotonic()
    made = prepare(games=not args.issue28_only)
    prepare_third(made)
    results: list[tuple[Probe, Result, str]] = [] if args.issue28_only else [*concurrent_builds(), killed_build()]
    from graphmem.testing.chat_server import ChatServer

    rng = random.Random(args.seed)
    with ChatServer(choose=fault_for) as llm:
        probes = [] if args.issue28_only else \
            listed(made, llm.base_url) + generated(args.generated, args.seed, made, llm.base_url)
        probes += third_sweep(made, args.generated, args.seed)
        with ThreadPoolExecutor(args.workers) as pool:
            batches = [pool.submit(in_process, "steps", step_cases(rng, args.generated // 4), path("steps.gmem")),
                       pool.submit(in_process, "mcp arguments", mcp_cases(rng, args.generated), path("mcp.gmem"))]
            for probe, r, verdict in [*pool.map(run_probe, probes), *(x for b in batches for x in b.result())]:
                results.append((probe, r, verdict))
                if args.verbose or verdict not in ("ok", "clear error"):
                    last = (r.err.strip().splitlines() or [""])[-1][:200]
                    name = " ".join(probe.name.split())[:70]
                    print(f"[{verdict}] {probe.family}: {name} (exit {r.code}, {r.seconds:.1f} s) {last}")
    counts = Counter(v for _, _, v in results)
    print(f"\n{len(results)} probes ({args.generated} generated, seed {args.seed}) in "
          f"{time.monotonic() - started:.0f} s")
    for family in sorted({p.family for p, _, _ in results}):
        ended = Counter(v for p, _, v in results if p.family == family)
        print(f"  {family}: " + ", ".join(f"{name} {ended[name]}" for name in OUTCOMES if ended[name]))
    print("  ".join(f"{name}: {counts.get(name, 0)}" for name in OUTCOMES))
    shutil.rmtree(WORK, ignore_errors=True)
    return 0 if not any(counts.get(k) for k in ("traceback", "loss", "hang")) else 1


if __name__ == "__main__":
    sys.exit(main())
