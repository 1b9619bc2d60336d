"""Replay the reliability probes against the `graphmem` command and count how each one ended.

Every probe runs the CLI in a subprocess (as a user would) and ends as one of:
  clear error   exit 2 with a one-line message (or argparse's usage error)
  ok            exit 0, and the result checks out
  traceback     a Python traceback, an 'internal error' (exit 1) or any other exit code
  wrong         invalid input accepted, valid input refused, or a wrong result
  loss          data that should have survived did not
  hang          no answer within the probe's time limit
The listed probes are the issue's families (bad input, faults, concurrent writers, a stalled or
garbled LLM server); --generated N adds N random ones from the same families (seeded).

    .venv/bin/python scripts/fuzz_cli.py [--generated 200] [--seed 0] [--workers 2] [-v]

Exit status 0 when there is no traceback, loss or hang.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
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


def prepare() -> dict:
    """A built graph, a finished game log, a generated game: made once, before the probes."""
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


# --- listed probes: the families ------------------------------------------------------------

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
    args = ap.parse_args()
    os.environ["GRAPHMEM_CACHE_DIR"] = str(WORK / "cache")
    os.environ["GRAPHMEM_CRASH_DIR"] = str(WORK / "crashes")
    started = time.monotonic()
    made = prepare()
    results: list[tuple[Probe, Result, str]] = [*concurrent_builds(), killed_build()]
    from graphmem.testing.chat_server import ChatServer

    with ChatServer(choose=fault_for) as llm:
        probes = listed(made, llm.base_url) + generated(args.generated, args.seed, made, llm.base_url)
        with ThreadPoolExecutor(args.workers) as pool:
            for probe, r, verdict in pool.map(run_probe, probes):
                results.append((probe, r, verdict))
                if args.verbose or verdict not in ("ok", "clear error"):
                    last = (r.err.strip().splitlines() or [""])[-1][:200]
                    name = " ".join(probe.name.split())[:70]
                    print(f"[{verdict}] {probe.family}: {name} (exit {r.code}, {r.seconds:.1f} s) {last}")
    counts = Counter(v for _, _, v in results)
    by_family = Counter(p.family for p, _, _ in results)
    print(f"\n{len(results)} probes ({args.generated} generated, seed {args.seed}) in "
          f"{time.monotonic() - started:.0f} s; families: {dict(sorted(by_family.items()))}")
    print("  ".join(f"{name}: {counts.get(name, 0)}" for name in OUTCOMES))
    shutil.rmtree(WORK, ignore_errors=True)
    return 0 if not any(counts.get(k) for k in ("traceback", "loss", "hang")) else 1


if __name__ == "__main__":
    sys.exit(main())
