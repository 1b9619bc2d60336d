"""A conversation memory end to end: turns through the one write path with their metadata, personal
facts retired across turns, relative times dated, and turns ranked with their session neighbours."""
import numpy as np
import pytest

from graphmem import Memory
from graphmem.extract.spans import fact_spans
from graphmem.dialogue import Turn, remember_turns, with_listeners
from graphmem.profiles import DIALOGUE, DOCUMENTS
from graphmem.rag.config import UNTITLED_PRIOR, GraphRAGConfig
from graphmem.rag.graph import CorpusGraph

TURNS = with_listeners([
    Turn("Ana", "I live in Denver.", session="1", time="1:00 pm on 5 January, 2023", id="D1:1"),
    Turn("Ben", "Cool! I love pottery.", session="1", time="1:00 pm on 5 January, 2023", id="D1:2"),
    Turn("Ana", "Big news: I moved to Boston last month!", session="2", time="2023-06-01T10:00", id="D2:1"),
    Turn("Ben", "Congrats! Take a look at this.", session="2", time="2023-06-01T10:00", id="D2:2",
         caption="a painting of a sunset over a lake"),
    Turn("Ana", "Is this your own painting?", session="2", time="2023-06-01T10:00", id="D2:3"),
    Turn("Ben", "Yes, I painted that lake sunrise last year.", session="2", time="2023-06-01T10:00", id="D2:4"),
])


@pytest.fixture(scope="module")
def memory():
    m = Memory(None, profile=DIALOGUE)
    assert remember_turns(m, TURNS) == len(TURNS)
    assert remember_turns(m, TURNS) == 0  # added again: nothing new
    return m


def test_turns_are_episodes_with_their_speaker_session_and_time(memory):
    episodes = {e.id: e for e in memory.store.episodes()}
    moved = episodes["D2:1"]
    assert moved.step == 2 and moved.title == "2023-06-01T10:00"
    assert moved.text == "Ana: Big news: I moved to Boston last month [May 2023]!"
    assert moved.meta == {"speaker": "Ana", "listener": "Ben", "session": "2", "time": "2023-06-01T10:00",
                          "turn": "D2:1"}
    assert episodes["D2:2"].text.endswith("[photo: a painting of a sunset over a lake]")


def test_a_turn_is_embedded_without_its_session_date_and_a_passage_with_its_title(memory):
    """A turn's title is a timestamp: its vector is its text's alone, in both write paths, and its
    facts are pooled from the text's own tokens. A document keeps its title in its vector."""
    turn = memory.store.get_episode("D2:1")
    alone, titled = memory.embedder.encode([turn.text, f"{turn.title}\n{turn.text}"])
    assert np.dot(turn.embedding, alone) == pytest.approx(1.0, abs=1e-5)
    assert np.dot(turn.embedding, titled) < 0.99
    one = Memory(None, profile=DIALOGUE)
    one.observe(TURNS[2].said, 0, source_id="D2:1", title=TURNS[2].time, meta=TURNS[2].meta)
    assert np.dot(one.store.get_episode("D2:1").embedding, alone) == pytest.approx(1.0, abs=1e-5)
    boston = next(t for t in memory.history("ana") if t.object == "boston")
    spans = fact_spans(turn.text, [(boston.subject, boston.relation, boston.object)])
    pooled = memory.embedder.encode_tokens([turn.text]).pool(0, spans)[0]
    assert pooled is not None and np.dot(boston.embedding, pooled) == pytest.approx(1.0, abs=1e-5)
    doc = Memory(None, profile=DOCUMENTS)
    doc.observe_many([("p1", "Denver", "The city lies at the foot of the Rocky Mountains.")])
    text, title = doc.store.get_episode("p1").text, "Denver"
    with_title = doc.embedder.encode([f"{title}\n{text}"])[0]
    assert np.dot(doc.store.get_episode("p1").embedding, with_title) == pytest.approx(1.0, abs=1e-5)


def test_a_new_home_retires_the_old_one_said_in_another_turn(memory):
    history = {(t.relation, t.object): t for t in memory.history("ana")}
    old = next(t for (r, o), t in history.items() if o == "denver")
    new = next(t for (r, o), t in history.items() if o == "boston")
    assert old.valid_until == 2 and new.current  # "moved to" and "live in" set one aspect: home
    assert not any(x in ("i", "me", "my") for t in memory.history("ana") for x in (t.subject, t.object))
    assert ("ben", "love", "pottery") in {(t.subject, t.relation, t.object) for t in memory.current()}


def test_a_turn_gains_the_better_of_its_session_neighbours_scores(memory):
    graph = CorpusGraph(memory)
    # Turns name no passage's title: the prior is the untitled corpus's, led by the turns' words.
    assert graph.index.title_share() == 0.0
    assert graph.prior == (*UNTITLED_PRIOR, True)  # BM25 over stems too
    ids = ["D1:1", "D1:2", "D2:1", "D2:2", "D2:3", "D2:4"]
    scores = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.5])
    out = graph._with_neighbours(ids, scores)
    # D1:2's neighbour D1:1 gains half of 1.0; D2:1 (first of session 2) gains nothing from D1:2
    assert out.tolist() == pytest.approx([0.5, 1.0, 0.0, 0.0, 0.25, 0.5])
    off = CorpusGraph(memory, config=GraphRAGConfig(neighbour_weight=0.0))
    assert off._with_neighbours(ids, scores).tolist() == scores.tolist()


def test_the_turns_of_the_person_a_question_names_gain_the_speaker_weight(memory):
    """A question about one person is answered from their own turns: theirs gain a share of their
    score; a question naming both people, or neither, moves nothing."""
    def scores(graph, question):
        return dict(graph.query(question, len(TURNS)).passages)

    on, off = CorpusGraph(memory), CorpusGraph(memory, config=GraphRAGConfig(speaker_weight=0.0))
    assert on.config.speaker_weight == 0.3
    weighted, plain = scores(on, "What did Ben paint last year?"), scores(off, "What did Ben paint last year?")
    assert set(weighted) == set(plain)
    bens = {e.id for e in memory.store.episodes() if e.meta["speaker"] == "Ben"}
    for pid, score in plain.items():
        assert weighted[pid] == pytest.approx(score * (1.3 if pid in bens else 1.0))
    for question in ("What did Ana and Ben talk about?", "Who painted the lake?"):
        assert scores(on, question) == pytest.approx(scores(off, question))


def test_the_question_reaches_the_reply_and_the_turn_it_answers(memory):
    graph = CorpusGraph(memory)
    top = [pid for pid, _ in graph.retrieve("When did Ben paint a lake sunrise?", 3)]
    assert top[0] == "D2:4" and "D2:3" in top


def test_a_saved_conversation_opens_as_a_corpus_graph_with_its_own_profile(tmp_path):
    from graphmem.errors import ConfigError
    from graphmem.store import open_store

    path = tmp_path / "chat.json"
    with Memory(str(path), profile=DIALOGUE) as m:
        remember_turns(m, TURNS[:2])
    graph = CorpusGraph(open_store(path, readonly=True))  # as `graphmem ask` opens it
    assert graph.memory.profile is DIALOGUE and graph.prior.stems
    assert graph.retrieve("Where does Ana live?", 1)[0][0] == "D1:1"
    game = tmp_path / "game.json"
    with Memory(str(game)) as m:
        m.observe("You see a key.", 0)
    with pytest.raises(ConfigError, match="passages or turns"):
        CorpusGraph(open_store(game, readonly=True))
