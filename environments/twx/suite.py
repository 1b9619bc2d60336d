"""The TextWorldExpress games of the TALES benchmark: names, engine game and generation parameters.

The 16 entries and their parameters are TALES's (microsoft/tale-suite, textworld_express): a
score on them compares with the scores TALES publishes. Names are TALES's environment names
(``TWX`` + task); the bare task name is accepted too.
"""
from __future__ import annotations

from dataclasses import dataclass

from graphmem.errors import GraphmemError

SUITE = "twx"
PREFIX = "TWX"
SPLITS = ("train", "dev", "test")


class TWXError(GraphmemError, ValueError):
    """A TextWorldExpress game, split or seed that cannot be played; the message says what can."""


@dataclass(frozen=True)
class TWXGame:
    name: str     # TALES's environment name, e.g. TWXCoinCollector
    game: str     # the engine's game name
    params: str   # the engine's generation parameters

    @property
    def task(self) -> str:
        """The task name without the suite prefix (CoinCollector)."""
        return self.name.removeprefix(PREFIX)


def _simon(length: int, memorization: bool, verbose: bool | None = None) -> str:
    params = f"gameLength={length},numDistractors=4,memorization={int(memorization)}"
    return params if verbose is None else f"{params},verbose={int(verbose)}"


GAMES: tuple[TWXGame, ...] = (
    TWXGame("TWXCookingWorld", "cookingworld",
            "numLocations=1,numIngredients=2,numDistractorItems=5,includeDoors=0,limitInventorySize=0"),
    TWXGame("TWXTextWorldCommonsense", "twc",
            "numLocations=1,numItemsToPutAway=1,includeDoors=0,limitInventorySize=0"),
    TWXGame("TWXCoinCollector", "coin", "numLocations=1,numDistractorItems=5,limitInventorySize=0"),
    TWXGame("TWXArithmetic", "arithmetic", ""),
    TWXGame("TWXMapReader", "mapreader",
            "numLocations=2,maxDistanceApart=1,maxDistractorItemsPerLocation=2,includeDoors=0,limitInventorySize=0"),
    TWXGame("TWXSorting", "sorting", ""),
    *(TWXGame(f"TWXSimonSays{n}", "simonsays", _simon(n, memorization=False)) for n in (10, 50, 100)),
    *(TWXGame(f"TWXSimonSaysWithMemory{n}", "simonsays", _simon(n, memorization=True, verbose=False))
      for n in (10, 50, 100)),
    *(TWXGame(f"TWXSimonSaysWithMemory{n}Verbose", "simonsays", _simon(n, memorization=True, verbose=True))
      for n in (10, 50, 100)),
    TWXGame("TWXPeckingOrder", "peckingorder", ""),
)
_BY_NAME = {g.name: g for g in GAMES}


def game(name: str) -> TWXGame:
    """The game called ``name`` (TWXCoinCollector or CoinCollector)."""
    found = _BY_NAME.get(name) or _BY_NAME.get(PREFIX + name)
    if found is None:
        raise TWXError(f"unknown TextWorldExpress game {name!r}; games: {', '.join(g.name for g in GAMES)}")
    return found


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise TWXError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")
    return split


def seeds(split: str, engine) -> tuple[int, ...]:
    """The game seeds of ``split`` as the engine (a running ``textworld_express`` env) lists them:
    1000 each; train starts at 0, dev at 10000, test at 20000."""
    listing = {"train": engine.getValidSeedsTrain, "dev": engine.getValidSeedsDev,
               "test": engine.getValidSeedsTest}[check_split(split)]
    return tuple(int(s) for s in listing())
