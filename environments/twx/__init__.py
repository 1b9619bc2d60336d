"""TextWorldExpress games (the TALES suite's TWX tasks) behind the same reset/step protocol as
TextWorld's, played the way TALES plays them (see env.py)."""
from .env import TWXEnv
from .suite import GAMES, SPLITS, SUITE, TWXError, TWXGame, game, seeds

__all__ = ["GAMES", "SPLITS", "SUITE", "TWXEnv", "TWXError", "TWXGame", "game", "seeds"]
