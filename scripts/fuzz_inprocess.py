"""The fuzzer's probes of the library and the MCP tools, run in one process (``fuzz_cli.py`` starts it):
a process per probe would spend its time importing torch, and these surfaces are called in-process
by their users anyway.

Reads a JSON object {"graph": PATH, "cases": [...]} on stdin and prints one JSON line per case,
{"verdict": ..., "detail": ...}, with the verdicts of ``fuzz_cli.py``; then one more case that
checks the graph: writes still work, and a reopened graph holds every write that was acknowledged.

Cases:
  {"kind": "step", "write": "observe" | "add_triples" | "observe_many" | "recall_at", "step": VALUE}
      a ``Memory`` write (or ``recall(at=...)``) with that step: a whole number from 0 to 2**53 is
      taken, anything else refused with a ConfigError before anything is written.
  {"kind": "mcp", "tool": NAME, "arguments": {...}, "expect": "ok" | "error" | "either"}
      an MCP tool call: a result or a tool error with a message; a crash ("Error executing tool X"
      and nothing else) is a traceback.
"""
from __future__ import annotations

import asyncio
import json
import sys
import traceback

from graphmem.errors import ConfigError, GraphmemError
from graphmem.memory import Memory
from graphmem.writer import MAX_STEP


def whole_step(value, write: str) -> bool:
    """Whether ``write`` takes ``value`` as its step (``recall(at=None)``: the current facts)."""
    return type(value) is int and 0 <= value <= MAX_STEP or (value is None and write == "recall_at")


def step_case(mem: Memory, case: dict) -> tuple[str, str]:
    step, write = case["step"], case["write"]
    before = mem.stats()
    n = before["episodes"]
    calls = {"observe": lambda: mem.observe(f"The key {n} is in the box {n}.", step),
             "add_triples": lambda: mem.add_triples([(f"coin {n}", "in", "purse")], step),
             "observe_many": lambda: mem.observe_many([(f"p{n}", "", f"The cup {n} is on the shelf.")],
                                                      steps=[step]),
             "recall_at": lambda: mem.recall("key", at=step)}
    try:
        calls[write]()
    except ConfigError as exc:
        if mem.stats() != before:
            return "wrong", f"refused but written: {exc}"
        return ("clear error" if not whole_step(step, write) else "wrong"), str(exc)
    return ("ok" if whole_step(step, write) else "wrong"), f"{write} took step {step!r}"


def mcp_case(server, case: dict) -> tuple[str, str]:
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError

    expect = case.get("expect", "either")
    try:
        asyncio.run(server.call_tool(case["tool"], case["arguments"]))
    except UnexpectedToolError as exc:
        return "traceback", "".join(traceback.format_exception(exc.__cause__ or exc))[-400:]
    except ToolError as exc:
        message = str(exc)
        if message.strip().endswith(f"Error executing tool {case['tool']}"):
            return "traceback", message
        return ("wrong" if expect == "ok" else "clear error"), message.splitlines()[0][:300]
    return ("wrong" if expect == "error" else "ok"), "answered"


def check_graph(path: str, acknowledged: int) -> tuple[str, str]:
    """Writes still work, and the reopened graph holds every acknowledged write."""
    with Memory(path) as mem:
        mem.add_triples([("final check", "in", "graph")], mem.stats()["episodes"] + 10_000)
    with Memory(path) as again:
        episodes = again.stats()["episodes"]
    if episodes < acknowledged + 1:
        return "loss", f"{episodes} episodes after {acknowledged} acknowledged writes and the check"
    return "ok", f"{episodes} episodes"


def main() -> None:
    job = json.load(sys.stdin)
    path, cases = job["graph"], job["cases"]
    mcp_cases = [c for c in cases if c["kind"] == "mcp"]

    def report(verdict: str, detail: str) -> None:
        print(json.dumps({"verdict": verdict, "detail": detail}), flush=True)

    with Memory(path) as mem:
        for case in cases:
            if case["kind"] == "step":
                try:
                    report(*step_case(mem, case))
                except Exception as exc:  # noqa: BLE001 - each case reports how it ended
                    report("traceback", "".join(traceback.format_exception(exc))[-400:])
        acknowledged = mem.stats()["episodes"]
    if mcp_cases:
        from graphmem.mcp_server import make_server
        from graphmem.namespaced import NamespacedService
        from graphmem.store import open_store

        with NamespacedService(open_store(path)) as services:
            server = make_server(services)
            for case in mcp_cases:
                try:
                    report(*mcp_case(server, case))
                except Exception as exc:  # noqa: BLE001
                    report("traceback", "".join(traceback.format_exception(exc))[-400:])
            acknowledged = services.get().stats()["episodes"]
    try:
        report(*check_graph(path, acknowledged))
    except GraphmemError as exc:
        report("loss", f"the graph no longer opens: {exc}")


if __name__ == "__main__":
    main()
