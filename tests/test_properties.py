"""Property tests of every parser a user or a model can feed: each input is either accepted (and
what was written reads back the same) or refused with a GraphmemError, never another exception."""
import json
import string
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem.errors import GraphmemError

# The machine is small and shared: few, unhurried examples per property.
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=16)


def near(fields: dict) -> st.SearchStrategy:
    """Objects that have the expected keys, each with the right or a wrong value."""
    return st.fixed_dictionaries({}, optional={k: v | json_values for k, v in fields.items()})


def write(data) -> Path:
    folder = Path(tempfile.mkdtemp())
    path = folder / "in.json"
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return path


# --- corpus loader ---------------------------------------------------------------------------

passage = near({"title": st.text(max_size=10), "text": st.text(max_size=30) | st.lists(st.text(max_size=10))})


@FAST
@given(st.lists(passage | st.text(max_size=20) | json_values, max_size=5)
       | st.dictionaries(st.text(max_size=8), st.lists(st.text(max_size=8)) | json_values, max_size=4)
       | json_values | st.binary(max_size=40))
def test_corpus_loader_accepts_or_refuses_cleanly(doc):
    from graphmem.corpus import load_corpus

    try:
        passages = load_corpus(write(doc))
    except GraphmemError:
        return
    assert all(isinstance(p.title, str) and isinstance(p.text, str) for p in passages)


@FAST
@given(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=30)), max_size=5))
def test_corpus_round_trip(items):
    from graphmem.corpus import load_corpus

    doc = [{"title": t, "text": x} for t, x in items]
    # identical passages are read once
    assert [(p.title, p.text) for p in load_corpus(write(doc))] == list(dict.fromkeys(items))


# --- questions loader ------------------------------------------------------------------------

question = near({"id": st.text(max_size=5) | st.integers(), "question": st.text(max_size=20),
                 "answer": st.text(max_size=5),
                 "paragraphs": st.lists(near({"title": st.text(max_size=5), "paragraph_text": st.text(max_size=10),
                                              "is_supporting": st.booleans()}), max_size=3),
                 "supporting_facts": st.lists(st.tuples(st.text(max_size=5), st.integers()), max_size=2),
                 "context": st.lists(st.tuples(st.text(max_size=5), st.lists(st.text(max_size=8))), max_size=2)})


@FAST
@given(st.lists(question | json_values, max_size=4) | json_values,
       st.lists(near({"title": st.text(max_size=5), "text": st.text(max_size=10)}), max_size=3) | json_values)
def test_questions_loader_accepts_or_refuses_cleanly(questions, corpus):
    from graphmem_environments.qa import load_dataset

    folder = write(questions).parent
    (folder / "questions.json").write_text(json.dumps(questions))
    (folder / "corpus.json").write_text(json.dumps(corpus))
    try:
        dataset = load_dataset(str(folder))
    except GraphmemError:
        return
    assert all(isinstance(q.question, str) for q in dataset.questions)


# --- graph files ---------------------------------------------------------------------------

names = st.text(alphabet=string.ascii_lowercase + " ", min_size=1, max_size=8)
triples = st.lists(st.builds(lambda s, r, o, f, u: (s, r, o, f, u), names, names, names,
                             st.integers(0, 50), st.none() | st.integers(51, 99)), max_size=6)


@FAST
@given(triples, st.booleans())
def test_graph_file_round_trip(rows, with_vectors):
    from graphmem.model import Triple
    from graphmem.store.embedded import EmbeddedStore

    path = write({}).with_name("g.json")
    st_ = EmbeddedStore(path)
    items = [Triple(s, r, o, valid_from=f, valid_until=u, sources=["e1"]) for s, r, o, f, u in rows]
    for t in items:
        t.embedding = np.arange(3, dtype=np.float32) + len(t.id) if with_vectors else None
    st_.add_triples(items)
    st_.close()
    back = EmbeddedStore(path, readonly=True)
    assert {t.id: t.to_dict() for t in back.triples(current_only=False)} == {t.id: t.to_dict() for t in items}
    if with_vectors:
        assert all(np.array_equal(back.get_triple(t.id).embedding, t.embedding) for t in items)


graph_doc = st.fixed_dictionaries({"format": st.just("graphmem-graph") | json_values},
                                  optional={"version": st.just(1) | json_values,
                                            "triples": st.lists(near({"id": st.text(max_size=4), "subject": names,
                                                                      "relation": names, "object": names,
                                                                      "valid_from": st.integers(),
                                                                      "valid_until": st.none(),
                                                                      "sources": st.lists(st.text(max_size=3))}),
                                                                max_size=3) | json_values,
                                            "episodes": st.lists(near({"id": st.text(max_size=4),
                                                                       "step": st.integers(),
                                                                       "text": st.text(max_size=8)}),
                                                                 max_size=2) | json_values,
                                            "vectors": json_values, "meta": json_values})


@FAST
@given(graph_doc | json_values | st.binary(max_size=30))
def test_graph_file_loader_accepts_or_refuses_cleanly(doc):
    from graphmem.store.embedded import EmbeddedStore

    try:
        store = EmbeddedStore(write(doc), readonly=True)
    except GraphmemError:
        return
    for t in store.triples(current_only=False):
        assert all(isinstance(x, str) for x in t.as_list()) and isinstance(t.valid_from, int)


# --- LLM replies -------------------------------------------------------------------------------

@FAST
@given(st.binary(max_size=60) | st.text(max_size=60).map(str.encode)
       | json_values.map(lambda v: json.dumps(v).encode())
       | st.fixed_dictionaries({"choices": json_values | st.lists(json_values, max_size=2)},
                               optional={"usage": json_values}).map(lambda v: json.dumps(v).encode()))
def test_completion_bodies_parse_or_are_malformed(body):
    from graphmem.llm.openai_backend import parse_completion

    try:
        done = parse_completion(body)
    except GraphmemError:
        return
    assert isinstance(done.text, str) and done.prompt_tokens >= 0 and done.completion_tokens >= 0


@FAST
@given(st.text(max_size=80), st.integers(0, 2000), st.integers(0, 2000))
def test_completion_round_trip(content, prompt, completion):
    from graphmem.testing.chat_server import completion as body
    from graphmem.llm.openai_backend import parse_completion

    done = parse_completion(json.dumps(body(content, prompt, completion)))
    assert (done.text, done.prompt_tokens, done.completion_tokens) == (content, prompt, completion)


@FAST
@given(st.text(max_size=80))
def test_reply_json_parses_or_is_a_reply_error(text):
    from graphmem.llm.jsonout import json_in_reply

    try:
        json_in_reply(text)
    except GraphmemError:
        pass


@FAST
@given(st.dictionaries(st.text(max_size=6), scalars, max_size=4) | st.lists(scalars, max_size=4),
       st.sampled_from(["{}", "Sure! {} Hope this helps.", "```json\n{}\n```", "{}\n"]))
def test_reply_json_round_trip(value, frame):
    from graphmem.llm.jsonout import json_in_reply

    assert json_in_reply(frame.replace("{}", json.dumps(value))) == value


# --- generator specs and game lists --------------------------------------------------------------

spec_words = st.sampled_from(["recipe=1", "take=2", "go=6", "cut", "cook", "level=3", "world_size=2",
                              "nb_objects=4", "quest_length=2", "bogus", "level=x", "seed=1", "go=7"])


@FAST
@given(st.sampled_from(["tw-cooking", "tw-treasure_hunter", "custom", "tw-coin_collector", "tw-nope", ""]),
       st.lists(spec_words | st.text(max_size=6), max_size=4))
def test_generator_specs_parse_and_round_trip_or_are_game_errors(kind, options):
    from graphmem_environments.textworld import parse_spec

    try:
        spec = parse_spec(f"{kind}:{','.join(options)}")
    except GraphmemError:
        return
    assert parse_spec(spec.canonical) == spec


@FAST
@given(st.lists(st.sampled_from(["tw-cooking:recipe=1,take=1,go=1,cut", "tw-treasure_hunter:level=2",
                                 "custom:world_size=2,nb_objects=3", "games/a.z8", "b.z8"]), min_size=1, max_size=4),
       st.sampled_from([",", ";"]))
def test_game_lists_split_back_into_their_games(games, sep):
    from graphmem_environments.textworld import split_games

    assert split_games(sep.join(games)) == games


# --- the Cypher write guard ----------------------------------------------------------------------

WRITES = ["CREATE (n)", "MERGE (n:X)", "DETACH DELETE n", "SET n.x = 1", "REMOVE n.x", "DROP INDEX i",
          "CALL apoc.cypher.runWrite('x', {})", "CALL db.createLabel('X')", "STOP DATABASE d",
          "FOREACH (x IN [1] | CREATE ())", "LOAD CSV FROM 'f' AS l"]


@FAST
@given(st.text(max_size=60))
def test_guard_never_raises_on_any_text(query):
    from graphmem.store.cypher_guard import write_clause

    assert write_clause(query) is None or isinstance(write_clause(query), str)


@FAST
@given(st.sampled_from(WRITES), st.booleans(), st.text(alphabet=string.ascii_letters + " ()", max_size=20),
       st.sampled_from(["{}", "/* c */ {}", "MATCH (n) {} RETURN n", "CALL {{ {} }}"]))
def test_guard_refuses_every_write_whatever_surrounds_it(write_, lower, prefix, frame):
    from graphmem.store.cypher_guard import write_clause

    text = frame.format(write_.lower() if lower else write_)
    assert write_clause(f"{prefix}\n{text}") is not None


@FAST
@given(st.sampled_from(WRITES), st.sampled_from(["'{}'", '"{}"', "`{}`", "// {}\n", "/* {} */"]))
def test_guard_ignores_writes_inside_strings_names_and_comments(write_, quote):
    from graphmem.store.cypher_guard import write_clause

    inner = write_.replace("'", "").replace('"', "").replace("`", "").replace("*/", "")
    assert write_clause(f"MATCH (n) WHERE n.name = {quote.format(inner)} RETURN n") is None


@pytest.mark.parametrize("bad", ["[" * 20_000 + "]" * 20_000, '{"a":' * 20_000 + "1" + "}" * 20_000])
def test_deep_nesting_is_refused_everywhere(bad):
    from graphmem.corpus import load_corpus
    from graphmem.llm.jsonout import json_in_reply
    from graphmem.llm.openai_backend import parse_completion
    from graphmem.store.embedded import EmbeddedStore

    for read in (load_corpus, lambda p: EmbeddedStore(p), lambda p: parse_completion(p.read_bytes()),
                 lambda p: json_in_reply(p.read_text())):
        with pytest.raises(GraphmemError):
            read(write(bad.encode()))
