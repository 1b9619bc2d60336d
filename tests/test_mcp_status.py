"""The status tool, and observe with an LLM extractor answering in the same call: with its facts when
the model answers, with a tool error naming the time limit when it does not (serve-mcp bounds each
model call so that observe answers before a client's 60 s default). The model is a scripted
OpenAI-compatible server; the MCP client is the SDK's, over stdio."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from graphmem.testing.chat_server import ChatServer

pytestmark = pytest.mark.slow  # a server in its own process, the real embedder
pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _reply(body: dict):
    """The scripted model: stalls past the limit on the text about the slow snail."""
    facts = json.dumps({"triples": [["knife", "on", "table"]]})
    said = body["messages"][-1]["content"]
    return ("stall", 8, (facts,), {}) if "snail" in said else ("reply", (facts,), {})


def test_status_and_observe_with_a_model_that_answers_or_stalls(tmp_path):
    with ChatServer(choose=_reply) as chat:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false",
               "OPENAI_BASE_URL": chat.base_url, "OPENAI_API_KEY": "test",
               "GRAPHMEM_CACHE_DIR": str(tmp_path / "llm-cache")}
        env.pop("GRAPHMEM_LLM_TIMEOUT", None)
        params = StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=env, args=[
            "-m", "graphmem.cli", "serve-mcp", "--graph", str(tmp_path / "m.json"), "--extractor", "llm",
            "--llm", "openai:test-model", "--llm-timeout", "2"])

        async def session() -> dict:
            async with Client(params, read_timeout_seconds=120) as client:
                tool = next(t for t in (await client.list_tools()).tools if t.name == "status")
                out = {"tool": tool, "before": (await client.call_tool("status", {})).structured_content}
                out["observed"] = await client.call_tool("observe", {"text": "There is a knife on the table."})
                out["stalled"] = await client.call_tool("observe", {"text": "A slow snail crosses the table."})
                out["after"] = (await client.call_tool("status", {})).structured_content
                return out

        out = asyncio.run(session())
    assert out["tool"].annotations.read_only_hint and out["tool"].output_schema
    before, after = out["before"], out["after"]
    assert before["extractor"] == "llm" and before["profile"] == "text-game" and before["episodes"] == 0
    assert before["store"].endswith("m.json") and before["version"] and before["sdk"] and before["tools"] == "all"
    assert before["observing"] == 0 and before["last_observe_seconds"] is None
    observed = json.loads(out["observed"].content[0].text)
    assert [(t["subject"], t["relation"], t["object"]) for t in observed["added"]] == [("knife", "on", "table")]
    assert out["stalled"].is_error and "llm-timeout" in out["stalled"].content[0].text.lower()
    assert after["episodes"] == 1 and after["observing"] == 0 and after["last_observe_seconds"] is not None
