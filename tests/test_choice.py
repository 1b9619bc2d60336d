"""The one chooser every LLM agent uses: scoring, structured choice, priors, fallbacks, caching."""
import json

from graphmem_agents.choice import Candidate, Chooser
from graphmem.llm import Scores
from scripted_llm import ScriptedChat


class ScoringChat(ScriptedChat):
    """Scores options by a table of log-probabilities (the local backend's interface)."""

    def __init__(self, table, **kw):
        super().__init__(lambda messages, schema: "unused", **kw)
        self.table = table
        self.scored: list[list[str]] = []

    def _score(self, messages, options):
        self.scored.append(options)
        return Scores([self.table.get(o, -20.0) for o in options], [2] * len(options), prompt_tokens=50)


def test_scoring_picks_the_best_mean_log_probability_plus_prior():
    llm = ScoringChat({"examine cookbook": -1.0, "take knife": -3.0, "eat carrot": -0.5})
    chooser = Chooser(llm)
    decision = chooser.choose("ctx", [Candidate("examine cookbook"), Candidate("take knife"), Candidate("eat carrot")])
    assert decision.command == "eat carrot" and decision.by == "model"
    # a prior from code outweighs a small difference in likelihood
    decision = chooser.choose("ctx", [Candidate("examine cookbook"), Candidate("take knife", 2.5)])
    assert decision.command == "take knife"
    assert decision.ranked[0] == ("take knife", 1.0)  # mean -1.5 + prior 2.5
    assert chooser.calls == 2 and llm.usage.snapshot().calls == 2


def test_shortlist_keeps_the_highest_priors_and_a_single_candidate_costs_no_call():
    llm = ScoringChat({})
    chooser = Chooser(llm, shortlist=2)
    chooser.choose("ctx", [Candidate("a", 0.0), Candidate("b", 2.0), Candidate("c", 1.0), Candidate("b", -1.0)])
    assert llm.scored == [["b", "c"]]
    assert chooser.choose("ctx", [Candidate("only")]).by == "prior"
    decisive = chooser.choose("ctx", [Candidate("eat meal", 6.0), Candidate("look", 1.0)])
    assert decisive.command == "eat meal" and decisive.by == "prior"  # a lead of 3+ needs no call
    assert len(llm.scored) == 1


def test_scores_are_cached_and_replayed(tmp_path):
    first = ScoringChat({"x": -1.0, "y": -2.0}, cache_path=tmp_path / "c.sqlite")
    Chooser(first).choose("ctx", [Candidate("x"), Candidate("y")])
    again = ScoringChat({"x": -9.0, "y": -1.0}, cache_path=tmp_path / "c.sqlite")
    assert Chooser(again).choose("ctx", [Candidate("x"), Candidate("y")]).command == "x"
    assert again.scored == [] and again.usage.snapshot().cached == 1


def test_structured_choice_without_scoring_and_a_counted_fallback():
    llm = ScriptedChat(lambda messages, schema: json.dumps({"action": schema["properties"]["action"]["enum"][-1]}))
    chooser = Chooser(llm)
    assert not llm.can_score
    assert chooser.choose("ctx", [Candidate("look"), Candidate("go north", 1.0)]).command == "look"  # +2 bonus
    assert llm.requests[0][1]["properties"]["action"]["enum"] == ["go north", "look"]
    bad = Chooser(ScriptedChat(lambda messages, schema: "no json"))
    decision = bad.choose("ctx", [Candidate("look"), Candidate("go north", 1.0)])
    assert decision.command == "go north" and decision.by == "fallback" and bad.fallbacks == 1


def test_sampling_is_seeded_and_eval_agents_reruns_differ():
    from graphmem_agents.evaluate import RERUN_TEMPERATURE, run_temperature

    table = {"a": -1.0, "b": -1.1, "c": -1.2}

    def pick(seed):
        chooser = Chooser(ScoringChat(table), temperature=1.0, seed=seed)
        return chooser.choose("ctx", [Candidate(o) for o in table]).command

    picks = [pick(seed) for seed in range(12)]
    assert picks == [pick(seed) for seed in range(12)] and len(set(picks)) > 1  # repeatable per seed only
    assert Chooser(ScoringChat(table)).choose("ctx", [Candidate(o) for o in table]).command == "a"  # greedy
    assert run_temperature("cook_1_1_cut", 0, None) == 0.0
    assert run_temperature("cook_1_1_cut", 2, None) == RERUN_TEMPERATURE  # a fixed game: sampled reruns
    assert run_temperature("tw-cooking:recipe=1,take=1,go=1", 2, None) == 0.0  # another game per seed
    assert run_temperature("cook_1_1_cut", 2, 0.0) == 0.0  # an explicit temperature wins
