"""TextWorld games for graphmem agents: loading and generating games, a reset/step wrapper with
cleaned observations, a cleaning-task scorer, and ground-truth triples for scoring memories."""
from ..episode import PlaceRule, StepResult, Task
from .cleaning import CleaningScorer
from .env import TextWorldEnv
from .games import (GameError, GameSpec, generate_game, load_tasks, looks_like_spec,
                    parse_spec, resolve_game, split_games, task_for_game_file)
from .ground_truth import (ObservedFilter, TripleScores, entity_name, ground_truth_triples,
                           score_triples)
from .observation import clean_observation

__all__ = [
    "CleaningScorer", "GameError", "GameSpec", "ObservedFilter", "PlaceRule", "StepResult", "Task",
    "TextWorldEnv", "TripleScores", "clean_observation", "entity_name", "generate_game", "ground_truth_triples",
    "load_tasks", "looks_like_spec", "parse_spec", "resolve_game", "score_triples", "split_games",
    "task_for_game_file",
]
