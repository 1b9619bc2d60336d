"""The TALES TextWorldExpress games (real textworld-express, its JVM) and eval-agents --suite twx."""
import json
import shutil
from pathlib import Path

import pytest

from graphmem.cli import main
from graphmem_environments.twx import GAMES, TWXEnv, TWXError, game, seeds
from graphmem_environments.twx.env import start_engine

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="TextWorldExpress needs Java (scripts/setup.sh)")

TALES_NAMES = [  # tales/textworld_express: TWX + each task of its table, in its order
    "CookingWorld", "TextWorldCommonsense", "CoinCollector", "Arithmetic", "MapReader", "Sorting",
    "SimonSays10", "SimonSays50", "SimonSays100", "SimonSaysWithMemory10", "SimonSaysWithMemory50",
    "SimonSaysWithMemory100", "SimonSaysWithMemory10Verbose", "SimonSaysWithMemory50Verbose",
    "SimonSaysWithMemory100Verbose", "PeckingOrder"]


def test_the_suite_is_tales_sixteen_games():
    assert [g.name for g in GAMES] == ["TWX" + n for n in TALES_NAMES]
    assert game("CoinCollector") is game("TWXCoinCollector")
    assert game("TWXSimonSaysWithMemory50Verbose").params == \
        "gameLength=50,numDistractors=4,memorization=1,verbose=1"
    with pytest.raises(TWXError, match="TWXPeckingOrder"):  # the message lists the games
        game("Zork")


def test_each_split_has_its_thousand_seeds():
    engine = start_engine()
    try:
        firsts = {split: seeds(split, engine) for split in ("train", "dev", "test")}
        assert {split: (len(s), s[0]) for split, s in firsts.items()} == \
            {"train": (1000, 0), "dev": (1000, 10000), "test": (1000, 20000)}
        with pytest.raises(TWXError, match="train, dev, test"):
            seeds("valid", engine)
    finally:
        engine.close()


def test_the_first_observation_is_the_task_then_the_game():
    with TWXEnv("TWXCoinCollector", split="dev", seed_index=3) as env:
        first = env.reset()
        assert env.seed == 10003 and env.task.name == "TWXCoinCollector"
        assert env.task.goal and first.observation.startswith(env.task.goal + "\n\n")
        assert len(first.observation) > len(env.task.goal) + 20
        assert (first.score, first.max_score, first.moves, first.done) == (0, 100, 0, False)


def test_a_lost_game_restarts_and_the_high_score_is_kept():
    with TWXEnv("SimonSays10", admissible=True) as env:
        first = env.reset()
        gold = env.walkthrough()
        assert len(gold) == 10
        assert env.step(gold[0]).score == 10
        wrong = next(c for c in first.admissible_commands if c != gold[1])
        lost = env.step(wrong)  # Simon did not say that: the game is lost (engine score -1)
        assert "\n\n-= Restarting =-\n" in lost.observation and lost.observation.endswith(first.observation)
        assert (lost.score, lost.done, lost.lost, lost.won, lost.moves) == (10, False, False, False, 2)
        for command in gold:  # the restarted game is the same game
            result = env.step(command)
        assert (result.score, result.won, result.done, result.truncated, result.moves) == (100, True, True, False, 12)
        with pytest.raises(RuntimeError):
            env.step("look")


def test_the_step_budget_ends_the_run_and_the_score_never_goes_below_zero():
    with TWXEnv("SimonSays10", admissible=True, max_steps=100) as env:
        first = env.reset()
        wrong = next(c for c in first.admissible_commands if c != env.walkthrough()[0])
        results = [env.step(wrong) for _ in range(100)]  # each step loses and restarts the game
        assert [r.done for r in results] == [False] * 99 + [True]
        assert all("-= Restarting =-" in r.observation for r in results[:99])
        last = results[-1]
        assert (last.score, last.truncated, last.won, last.moves) == (0, True, False, 100)
        assert "Restarting" not in last.observation  # no restart once the budget is spent


@pytest.mark.parametrize("admissible", [False, True])
def test_admissible_commands_only_when_asked(admissible):
    with TWXEnv("TWXMapReader", admissible=admissible) as env:
        first = env.reset()
        if not admissible:
            assert first.admissible_commands == ()
        else:
            assert list(first.admissible_commands) == sorted(set(first.admissible_commands))
            assert env.walkthrough()[0] in first.admissible_commands


def test_missing_java_says_to_install_a_jre(monkeypatch):
    monkeypatch.setattr("graphmem_environments.twx.env.shutil.which", lambda name: None)
    with pytest.raises(TWXError, match="install a JRE"):
        TWXEnv("CoinCollector")


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_suite_options_are_checked(capsys, tmp_path):
    code, _, err = _run(capsys, "eval-agents", "--suite", "twx", "--games", "Zork", "--agents", "walkthrough",
                        "--out", str(tmp_path))
    assert code == 2 and "unknown TextWorldExpress game 'Zork'" in err and "TWXCoinCollector" in err
    code, _, err = _run(capsys, "eval-agents", "--games", "g.z8", "--split", "dev", "--agents", "walkthrough")
    assert code == 2 and "--suite twx" in err
    code, _, err = _run(capsys, "eval-agents", "--agents", "walkthrough")
    assert code == 2 and "--games" in err


@pytest.mark.slow
def test_eval_agents_suite_walkthrough_json_and_resume(capsys, tmp_path):
    argv = ["eval-agents", "--suite", "twx", "--agents", "walkthrough", "--games", "TWXCoinCollector,TWXMapReader",
            "--out", str(tmp_path), "--json"]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    result = json.loads(out)
    assert result == {"suite": "twx", "split": "test", "admissible": False, "agent": "walkthrough",
                      "games": {"TWXCoinCollector": {"score": 100, "steps": 2, "won": True},
                                "TWXMapReader": {"score": 100, "steps": 7, "won": True}},
                      "mean": 100.0}
    saved = json.loads((tmp_path / "results.json").read_text())
    assert {k: v for k, v in saved.items() if k != "runs"} == result and len(saved["runs"]) == 2
    assert (tmp_path / "results.md").read_text().splitlines()[-1].startswith("| mean | 100.00 |")
    # Cut MapReader's log after 3 steps, as if the run had been killed: the rerun resumes it.
    log = next((tmp_path / "logs").glob("TWXMapReader__walkthrough__test-s0-a0.jsonl"))
    lines = log.read_text().splitlines()
    Path(log).write_text("\n".join(lines[:4]) + "\n")
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and json.loads(out) == result
    final = json.loads(log.read_text().splitlines()[-1])
    assert final["type"] == "final" and final["resumed_steps"] == 3 and final["replay_mismatches"] == 0


def test_several_agents_each_get_their_scores(tmp_path):
    """An LLM baseline that always picks the first valid action, beside the walkthrough agent."""
    from scripted_llm import ScriptedChat

    from graphmem_agents.suite import eval_suite, markdown_table

    def first_choice(messages, schema):
        return json.dumps({"action": schema["properties"]["action"]["enum"][0]})

    result = eval_suite(["walkthrough", "full-history"], ScriptedChat(first_choice), out_dir=tmp_path,
                        games=["CoinCollector"], admissible=True, max_steps=5)
    assert result["agent"] == "walkthrough" and result["games"] == result["agents"]["walkthrough"]["games"]
    baseline = result["agents"]["full-history"]["games"]["TWXCoinCollector"]
    assert baseline["steps"] == 5 and not baseline["won"] and 0 <= baseline["score"] < 100
    assert result["agents"]["full-history"]["mean"] == baseline["score"]
    table = markdown_table(result["agents"]).splitlines()
    assert table[0] == ("| game | walkthrough score | walkthrough steps | walkthrough won | full-history score "
                        "| full-history steps | full-history won |")
    assert table[2].startswith("| TWXCoinCollector | 100 | 2 | yes | ")
