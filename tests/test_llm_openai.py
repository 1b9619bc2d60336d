"""The OpenAI-compatible backend: the real ``openai`` client against a real scripted HTTP server."""
import json
import time

import pytest

from graphmem.testing.chat_server import ChatServer
from graphmem.llm import BadReply, LLMConfigError, LLMRequestError, ReplayMiss, ResponseCache, Usage, make_llm
from graphmem.llm.openai_backend import OpenAIChat

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}]


@pytest.fixture
def server():
    with ChatServer() as srv:
        yield srv


def client(server, cache_mode="off", cache=None, **kw):
    params = dict(base_url=server.base_url, api_key="test-key", max_attempts=3, wait_initial=0.01,
                  wait_max=0.02, timeout=5.0)
    params.update(kw)
    return OpenAIChat("test-model", cache=cache, cache_mode=cache_mode, **params)


def test_plain_reply_fields_and_request(server):
    server.reply("hi there", prompt_tokens=12, completion_tokens=3)
    res = client(server).chat(HELLO, max_tokens=20, seed=7)
    assert (res.text, res.data, res.prompt_tokens, res.completion_tokens, res.cached) == (
        "hi there", None, 12, 3, False)
    sent = server.requests[0]
    assert sent["model"] == "test-model" and sent["messages"] == HELLO
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.0, 20, 7)
    assert "response_format" not in sent


def test_retries_429_and_500_then_succeeds(server):
    server.error(429, "slow down").error(500, "oops").reply("ok")
    llm = client(server)
    assert llm.chat(HELLO).text == "ok"
    assert len(server.requests) == 3
    assert llm.usage.snapshot().calls == 1


def test_transient_errors_beyond_attempts_fail_with_clear_message(server):
    server.error(503).error(503).error(503).reply("never reached")
    with pytest.raises(LLMRequestError, match=r"HTTP 503.*after 3 attempts"):
        client(server).chat(HELLO)
    assert len(server.requests) == 3


def test_400_is_not_retried(server):
    server.error(400, "max_tokens too large").reply("never reached")
    with pytest.raises(LLMRequestError, match="max_tokens too large.*check the request parameters"):
        client(server).chat(HELLO)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status,hint", [(401, "OPENAI_API_KEY"), (404, "GRAPHMEM_MODEL")])
def test_auth_and_not_found_say_what_to_check(server, status, hint):
    server.error(status)
    with pytest.raises(LLMRequestError, match=hint):
        client(server).chat(HELLO)
    assert len(server.requests) == 1


def test_timeout_is_retried(server):
    server.stall(1.0).reply("on time")
    assert client(server, attempt_timeout=0.3).chat(HELLO).text == "on time"
    assert len(server.requests) == 2


def test_timeouts_beyond_attempts_fail(server):
    server.stall(1.0).stall(1.0)
    with pytest.raises(LLMRequestError, match="timed out after 2 attempts"):
        client(server, attempt_timeout=0.3, max_attempts=2).chat(HELLO)


def test_a_stalled_server_costs_one_deadline_not_attempts_times_timeout(server):
    for _ in range(4):
        server.stall(3.0)
    started = time.monotonic()
    with pytest.raises(LLMRequestError, match=r"timed out after 1 attempt within its 1 s deadline.*--llm-timeout"):
        client(server, timeout=1.0, max_attempts=4, wait_initial=0.5).chat(HELLO)
    assert time.monotonic() - started < 2.0


def test_timeout_from_make_llm_and_the_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    assert make_llm("openai:m", cache_mode="off").timeout == 120
    monkeypatch.setenv("GRAPHMEM_LLM_TIMEOUT", "7.5")
    assert make_llm("openai:m", cache_mode="off").timeout == 7.5
    assert make_llm("openai:m", cache_mode="off", timeout=3).timeout == 3
    monkeypatch.setenv("GRAPHMEM_LLM_TIMEOUT", "soon")
    with pytest.raises(LLMConfigError, match="GRAPHMEM_LLM_TIMEOUT"):
        make_llm("openai:m", cache_mode="off")


MALFORMED = {
    "html": (b"<html><body>502 Bad Gateway</body></html>", "text/html", "not JSON"),
    "bad json": (b'{"choices": [', "application/json", "not JSON"),
    "no choices": (b'{"id": "x"}', "application/json", "no choices"),
    "empty choices": (b'{"choices": []}', "application/json", "no choices"),
    "null message": (b'{"choices": [{"message": null}]}', "application/json", "no message text"),
    "a list": (b"[1, 2]", "application/json", "not a JSON object"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_200_bodies_are_retried_then_a_clear_error(server, kind):
    body, ctype, needle = MALFORMED[kind]
    server.raw(body, ctype).raw(body, ctype).raw(body, ctype)
    with pytest.raises(LLMRequestError, match=f"sent no chat completion after 3 attempts.*{needle}"):
        client(server).chat(HELLO)
    server.raw(body, ctype).reply("fine")
    assert client(server).chat(HELLO).text == "fine"  # a garbled body once is just retried


def test_dropped_connection_is_retried(server):
    server.drop().reply("back")
    assert client(server).chat(HELLO).text == "back"
    assert len(server.requests) == 2


def test_structured_reply_uses_json_schema(server):
    server.reply('{"n": 3}')
    res = client(server).chat(HELLO, schema=SCHEMA)
    assert res.data == {"n": 3}
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == SCHEMA


def test_rejected_json_schema_falls_back_to_json_mode_and_remembers(server):
    server.rejected_formats = {"json_schema"}
    server.reply('{"n": 1}').reply('{"n": 2}')
    llm = client(server)
    assert llm.chat(HELLO, schema=SCHEMA).data == {"n": 1}
    assert llm.chat(HELLO + [{"role": "user", "content": "again"}], schema=SCHEMA).data == {"n": 2}
    kinds = [r.get("response_format", {}).get("type") for r in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    # JSON mode cannot enforce the schema, so the prompt spells it out.
    assert '"required":["n"]' in server.requests[1]["messages"][0]["content"]


def test_no_structured_output_at_all_falls_back_to_prompt(server):
    server.rejected_formats = {"json_schema", "json_object"}
    server.reply('Sure! ```json\n{"n": 5}\n```')
    llm = client(server)
    assert llm.chat(HELLO, schema=SCHEMA).data == {"n": 5}
    assert "response_format" not in server.requests[-1]
    assert llm.modes == ["prompt"]


def test_malformed_json_raises_bad_reply_and_is_not_cached(server, tmp_path):
    server.reply('{"n": 3', completion_tokens=4).reply('{"n": 3}')
    llm = client(server, cache_mode="on", cache=ResponseCache(tmp_path / "c.sqlite"))
    with pytest.raises(BadReply, match="malformed JSON") as info:
        llm.chat(HELLO, schema=SCHEMA)
    assert info.value.result.text == '{"n": 3' and info.value.result.completion_tokens == 4
    assert llm.chat(HELLO, schema=SCHEMA).data == {"n": 3}  # asked again, not served from cache
    assert len(server.requests) == 2
    assert llm.usage.snapshot().calls == 2  # the bad reply still cost tokens


def test_truncated_reply_says_so(server):
    server.reply('{"triples": [["a", "b"', finish_reason="length")
    with pytest.raises(BadReply, match="cut off at max_tokens"):
        client(server).chat(HELLO, schema=SCHEMA, max_tokens=8)


def test_reply_breaking_schema_is_bad(server):
    server.reply('{"n": "three"}')
    with pytest.raises(BadReply, match=r"\$\.n: expected integer"):
        client(server).chat(HELLO, schema=SCHEMA)


def test_cache_hit_miss_and_persistence(server, tmp_path):
    path = tmp_path / "c.sqlite"
    server.reply('{"n": 1}', prompt_tokens=30, completion_tokens=6).reply('{"n": 2}')
    llm = client(server, cache_mode="on", cache=ResponseCache(path))
    first = llm.chat(HELLO, schema=SCHEMA)
    second = llm.chat(HELLO, schema=SCHEMA)
    assert (first.cached, second.cached) == (False, True)
    assert second.data == {"n": 1} and second.prompt_tokens == 30
    other = llm.chat(HELLO, schema=SCHEMA, temperature=0.5)  # different parameters: a miss
    assert other.data == {"n": 2} and not other.cached
    assert len(server.requests) == 2
    assert llm.usage.snapshot() == Usage(calls=2, cached=1, prompt_tokens=40, completion_tokens=11,
                                         seconds=llm.usage.snapshot().seconds)
    reopened = client(server, cache_mode="replay", cache=ResponseCache(path))
    assert reopened.chat(HELLO, schema=SCHEMA).cached
    assert len(server.requests) == 2


def test_replay_miss_is_an_error_and_sends_nothing(server, tmp_path):
    server.reply("never sent")
    llm = client(server, cache_mode="replay", cache=ResponseCache(tmp_path / "c.sqlite"))
    with pytest.raises(ReplayMiss, match="no recorded reply from openai:test-model"):
        llm.chat(HELLO)
    assert server.requests == []


def test_cache_off_always_asks(server, tmp_path):
    server.reply("a").reply("b")
    llm = client(server, cache_mode="off", cache=ResponseCache(tmp_path / "c.sqlite"))
    assert [llm.chat(HELLO).text, llm.chat(HELLO).text] == ["a", "b"]


def test_usage_per_step_and_cost(server):
    server.reply("x", prompt_tokens=1000, completion_tokens=100).reply("y", prompt_tokens=500,
                                                                       completion_tokens=50)
    llm = client(server, prompt_price=2.0, completion_price=10.0)
    llm.chat(HELLO)
    before = llm.usage.snapshot()
    llm.chat(HELLO)
    step = llm.usage.since(before)
    assert (step.calls, step.prompt_tokens, step.completion_tokens) == (1, 500, 50)
    assert step.cost == pytest.approx((500 * 2 + 50 * 10) / 1e6)
    total = llm.usage.snapshot()
    assert total.total_tokens == 1650 and json.dumps(total.to_dict())


def test_make_llm_openai_from_environment(server, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("GRAPHMEM_MODEL", "env-model")
    monkeypatch.delenv("GRAPHMEM_LLM", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.reply("from env")
    llm = make_llm(None, cache_path=tmp_path / "c.sqlite", max_attempts=1)
    assert llm.name == "openai:env-model"
    assert llm.chat(HELLO).text == "from env"
    assert server.requests[0]["model"] == "env-model"


def test_a_lone_surrogate_in_a_message_is_sent_and_cached_and_a_spec_that_is_not_text_is_refused(server, tmp_path):
    """A JSON corpus may hold "\\ud800"; bytes that were not UTF-8 reach argv as surrogate escapes."""
    server.reply("one").reply("two")
    llm = client(server, cache_mode="on", cache=ResponseCache(tmp_path / "c.sqlite"))
    odd = [{"role": "user", "content": "caf\ud800 is open"}]
    assert llm.chat(odd).text == "one" and llm.chat(odd).cached  # the same key the second time
    assert server.requests[0]["messages"][0]["content"] == "caf\ufffd is open"
    assert llm.chat([{"role": "user", "content": "caf\ud801 is shut"}]).text == "two"
    with pytest.raises(LLMConfigError, match="is not UTF-8 text"):
        make_llm("openai:caf\udce9", cache_mode="off")
