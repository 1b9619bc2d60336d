"""Conversation turns: dates, relative times, speakers' pronouns, chat files, LoCoMo's shape and F1."""
import json
from datetime import datetime

import pytest

from graphmem.dialogue import (ChatFormatError, Turn, parse_time, prepared, read_chat_jsonl,
                               resolve_relative_times, speaker_view)
from graphmem_environments.conversation import LocomoError, load_locomo
from graphmem_environments.conversation.metrics import locomo_f1


def test_session_times_in_locomo_and_iso_forms():
    assert parse_time("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56)
    assert parse_time("12:09 am on 13 September, 2023") == datetime(2023, 9, 13, 0, 9)
    assert parse_time("2023-05-08T13:56") == datetime(2023, 5, 8, 13, 56)
    assert parse_time("8 May 2023") == datetime(2023, 5, 8)
    assert parse_time("sometime in spring") is None
    assert parse_time("") is None


def test_relative_times_are_dated_by_the_session():
    monday = datetime(2023, 5, 8)
    assert resolve_relative_times("I went to a support group yesterday.", monday) == \
        "I went to a support group yesterday [7 May 2023]."
    out = resolve_relative_times("Last week I ran; next month we move; 2 days ago I painted.", monday)
    assert "Last week [the week before 8 May 2023]" in out
    assert "next month [June 2023]" in out
    assert "2 days ago [6 May 2023]" in out
    assert resolve_relative_times("We met last Friday and last year.", monday) == \
        "We met last Friday [the Friday before 8 May 2023] and last year [2022]."
    # December's next month is January of the next year; no date means no change
    assert "[January 2024]" in resolve_relative_times("next month", datetime(2023, 12, 3))
    assert resolve_relative_times("yesterday", None) == "yesterday"
    # written once: a text already dated is not dated again
    once = resolve_relative_times("yesterday", monday)
    assert resolve_relative_times(once, monday) == once


def test_first_and_second_person_become_the_speaker_and_the_listener():
    text = "Caroline: I went to my support group. Did you like your trip? I'm happy."
    out = speaker_view(text, "Caroline", "Melanie")
    assert out == "Caroline went to Caroline's support group. Did Melanie like Melanie's trip? Caroline is happy."
    stored, extract = prepared("Caroline: I went yesterday.", {"speaker": "Caroline", "time": "8 May 2023"},
                               speaker_pronouns=True, relative_times=True)
    assert stored == "Caroline: I went yesterday [7 May 2023]."
    assert extract == "Caroline went yesterday [7 May 2023]."


def test_chat_jsonl_turns_get_ids_and_listeners(tmp_path):
    path = tmp_path / "chat.jsonl"
    rows = [{"session": "1", "time": "2024-01-02", "speaker": "Ana", "text": "I moved to Lisbon."},
            {"session": "1", "time": "2024-01-02", "speaker": "Ben", "text": "Nice!"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    turns = read_chat_jsonl(str(path))
    assert [t.id for t in turns] == ["S1:1", "S1:2"]
    assert turns[0].listener == "Ben" and turns[1].listener == "Ana"
    assert turns[0].meta == {"speaker": "Ana", "listener": "Ben", "session": "1", "time": "2024-01-02", "turn": "S1:1"}
    path.write_text('{"speaker": "Ana"}\n')
    with pytest.raises(ChatFormatError, match=":1: expected"):
        read_chat_jsonl(str(path))
    path.write_text("not json\n")
    with pytest.raises(ChatFormatError, match="not JSON"):
        read_chat_jsonl(str(path))


def _locomo(tmp_path, evidence):
    conv = {"speaker_a": "Ana", "speaker_b": "Ben", "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [{"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a dog yesterday."},
                          {"speaker": "Ben", "dia_id": "D1:2", "text": "What breed?", "blip_caption": "a puppy"}]}
    qa = [{"question": "When did Ana adopt a dog?", "answer": "7 May 2023", "evidence": evidence, "category": 2},
          {"question": "What is Ben's job?", "adversarial_answer": "pilot", "evidence": [], "category": 5}]
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps([{"sample_id": "conv-1", "conversation": conv, "qa": qa}]))
    return str(path)


def test_locomo_reads_turns_and_repairs_evidence_ids_it_counts(tmp_path):
    (conv,) = load_locomo(_locomo(tmp_path, ["D:1:1; D1:2", "D9:9"]))
    assert [t.id for t in conv.turns] == ["D1:1", "D1:2"]
    assert conv.turns[1].said == "Ben: What breed? [photo: a puppy]"
    assert conv.turns[0].listener == "Ben"
    assert conv.questions[0].evidence == ["D1:1", "D1:2", "D9:9"]
    assert (conv.repaired_evidence, conv.missing_evidence) == (2, 1)
    assert conv.questions[1].category == 5 and conv.questions[1].answer == ""
    assert conv.questions[1].adversarial_answer == "pilot" and conv.questions[0].adversarial_answer == ""
    with pytest.raises(LocomoError, match="no conversation conv-9"):
        load_locomo(_locomo(tmp_path, []), ["conv-9"])


def test_locomo_f1_follows_its_categories():
    assert locomo_f1("7 May 2023", "7 May 2023", 2) == 1.0
    assert locomo_f1("running", "runs", 4) == 1.0  # Porter stems
    assert locomo_f1("pottery, painting", "Painting, pottery, camping", 1) == pytest.approx(2 / 3)
    assert locomo_f1("psychology", "psychology; counseling", 3) == 1.0
    assert locomo_f1("Not mentioned in the conversation", "", 5) == 1.0
    assert locomo_f1("pilot", "", 5) == 0.0


def test_a_turn_without_a_photo_is_said_as_is():
    assert Turn("Ana", "Hi").said == "Ana: Hi"


def test_eval_conv_samples_each_category():
    from types import SimpleNamespace

    from graphmem_agents.cli.qa import _sample

    questions = [SimpleNamespace(category=c, n=n) for n, c in enumerate([1, 1, 2, 1, 5, 2, 2])]
    assert [q.n for q in _sample(questions, None, 2)] == [0, 1, 2, 4, 5]
    assert [q.n for q in _sample(questions, 3, 2)] == [0, 1, 2]
    assert _sample(questions, None, None) == questions
