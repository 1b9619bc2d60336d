"""Memory evaluation: replay a game's walkthrough into a fresh Memory and score its current triples.

Every observation goes through the chosen extractor as the game printed it (cleaned), headed by the
room the player is in when it has no heading of its own (so "You drop the knife on the ground" can be
placed); the command itself is not added: the response says what it did. Moves add their connection
triples from code (``graphmem.spatial``). After
each step the memory's current triples are compared with the game's true state restricted to what
the observations so far have shown (``ObservedFilter``).

Precision counts only triples in the ground truth's vocabulary: (x, in|on, y), (x, is,
open|closed|locked), (room, has exit, direction), (room, is <direction> of, room). A memory may also
hold true facts the game state cannot express ("counter is vast", "carrot is sliced"); those are
counted as ``unscored`` rather than as errors.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from graphmem_environments.textworld import ObservedFilter, Task, TextWorldEnv, ground_truth_triples, score_triples
from graphmem.extract import make_extractor
from graphmem.profiles import EXIT, OPENNESS, connection_direction
from graphmem.spatial import move_triples, room_of, with_room

from .walkthrough import WalkthroughAgent

STATE_VALUES = frozenset(OPENNESS)
_PLAIN_RELATIONS = frozenset({"in", "on", EXIT})


def in_vocabulary(triple: tuple[str, str, str]) -> bool:
    """Whether the ground truth could contain a triple of this shape (so it can be scored)."""
    _, relation, obj = triple
    return relation in _PLAIN_RELATIONS or connection_direction(relation) is not None or \
        (relation == "is" and obj in STATE_VALUES)


@dataclass(frozen=True)
class StepScore:
    step: int
    command: str | None
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int      # scored memory triples (in the vocabulary)
    truth: int          # observed ground-truth triples
    unscored: int       # current memory triples outside the vocabulary


@dataclass
class MemoryEval:
    game: str
    extractor: str
    steps: int
    precision: float
    recall: float
    f1: float
    mean_f1: float      # over all steps: how right the memory was along the way, not only at the end
    per_step: list[StepScore] = field(default_factory=list)
    missing: list[tuple[str, str, str]] = field(default_factory=list)   # final false negatives
    wrong: list[tuple[str, str, str]] = field(default_factory=list)     # final false positives

    def to_json(self) -> dict:
        out = asdict(self)
        out["scored_relations"] = "in, on, is open/closed/locked, has exit, is <direction> of"
        return out


@dataclass(frozen=True)
class ReplayStep:
    command: str | None             # None for the reset
    observation: str                # cleaned
    truth: tuple[tuple[str, str, str], ...]  # ground truth restricted to what was observed so far


def replay(task: Task) -> list[ReplayStep]:
    """Play ``task``'s walkthrough; each step's observation with the observed ground truth."""
    observed = ObservedFilter()
    steps: list[ReplayStep] = []
    with TextWorldEnv(task) as env:
        result, command = env.reset(), None
        agent = WalkthroughAgent(env.walkthrough() or ())
        while True:
            observed.see(result.observation, result.facts)
            steps.append(ReplayStep(command, result.observation,
                                    tuple(observed.restrict(ground_truth_triples(result)))))
            command = agent.act(result)
            if command is None:
                return steps
            result = env.step(command)


def score_replay(steps: list[ReplayStep], memory, name: str = "", extractor: str = "") -> MemoryEval:
    """Feed the replayed observations (and moves) into ``memory``, scoring it after every step."""
    per_step: list[StepScore] = []
    room = None
    scored: list[tuple[str, str, str]] = []
    for i, st in enumerate(steps):
        memory.observe(with_room(st.observation, room), i)
        if st.command is not None:
            memory.add_triples(move_triples(room, st.command, st.observation), i)
        room = room_of(st.observation) or room
        current = [(t.subject, t.relation, t.object) for t in memory.current()]
        scored = [t for t in current if in_vocabulary(t)]
        s = score_triples(scored, st.truth)
        per_step.append(StepScore(i, st.command, s.precision, s.recall, s.f1, s.true_positives,
                                  s.predicted, s.truth, len(current) - len(scored)))
    final = per_step[-1]
    truth, mine = set(steps[-1].truth), set(scored)
    mean_f1 = sum(s.f1 for s in per_step) / len(per_step)
    return MemoryEval(name, extractor, len(steps) - 1, final.precision, final.recall, final.f1, mean_f1, per_step,
                      missing=sorted(truth - mine), wrong=sorted(mine - truth))


def evaluate_memory(task: Task, extractor: str = "offline", memory=None, llm=None) -> MemoryEval:
    """Replay ``task``'s walkthrough into a fresh memory (or ``memory``) and score it per step."""
    if memory is None:
        from graphmem.memory import Memory

        memory = Memory(extractor=make_extractor(extractor, llm), embed_episodes=False)
    return score_replay(replay(task), memory, task.name, extractor)
