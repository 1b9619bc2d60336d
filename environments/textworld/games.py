"""Finding TextWorld games: a .z8 path, a task from a task file, or a generator spec (cached).

A generator spec is ``KIND:OPTIONS`` where KIND is ``custom`` or a TextWorld challenge
(``tw-cooking``, ``tw-treasure_hunter``, ...) and OPTIONS is a comma-separated list of tw-make
options: ``key=value`` for ``--key value`` and a bare ``flag`` for ``--flag``, e.g.
``tw-cooking:recipe=1,take=1,go=1,cut``. The seed is a separate parameter (never in the spec).
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graphmem.errors import GraphmemError
from graphmem.util.jsonfile import read_json

from ..episode import DEFAULT_MAX_STEPS, PlaceRule, Task

log = logging.getLogger(__name__)

GAME_SUFFIXES = (".z8", ".ulx", ".z5")
SPEC_EXAMPLES = "tw-cooking:recipe=1,take=1,go=1,cut | tw-treasure_hunter:level=5 | custom:world_size=3,nb_objects=5,quest_length=3"


class GameError(GraphmemError, ValueError):
    """A game reference that cannot be resolved; the message says what to do instead."""


# ---------------------------------------------------------------- task files

def load_tasks(path: str | os.PathLike) -> dict[str, Task]:
    """Read a task file (task name -> game, goal, hint, max_steps, [walkthrough], [clean lists])."""
    path = Path(path)
    if not path.is_file():
        raise GameError(f"Task file not found: {path}. Pass an existing tasks.json (e.g. "
                        f"../shared/data/textworld/arigraph/tasks.json).")
    raw = read_json(path, GameError, "Task file")
    if not isinstance(raw, dict):
        raise GameError(f"Task file {path} must hold a JSON object of task name -> task.")
    return {name: _task_from_json(name, entry, path.parent) for name, entry in raw.items()}


def _task_from_json(name: str, entry: dict, base: Path) -> Task:
    if not isinstance(entry, dict) or not isinstance(entry.get("game"), str):
        raise GameError(f"Task {name!r}: needs at least a 'game' key (game path relative to the task file).")
    game_path = (base / entry["game"]).resolve()
    walkthrough = entry.get("walkthrough")
    if walkthrough is not None and not (isinstance(walkthrough, list) and all(isinstance(c, str) for c in walkthrough)):
        raise GameError(f"Task {name!r}: 'walkthrough' must be a list of commands.")
    max_steps = entry.get("max_steps", DEFAULT_MAX_STEPS)
    if type(max_steps) is not int or max_steps < 1:
        raise GameError(f"Task {name!r}: 'max_steps' must be a whole number >= 1, not {max_steps!r}.")
    take = entry.get("clean_take")
    place = entry.get("clean_place")
    if not all(x is None or isinstance(x, list) for x in (take, place)):
        raise GameError(f"Task {name!r}: 'clean_take' and 'clean_place' must be lists of rules.")
    return Task(
        name=name,
        game_path=game_path,
        goal=str(entry.get("goal", "")),
        hint=str(entry.get("hint", "")),
        max_steps=max_steps,
        walkthrough=tuple(walkthrough) if walkthrough is not None else None,
        # Entries are [item, holder, {"label": relation}] as in the AriGraph task file.
        clean_take=tuple(_rule_part(name, r, 0) for r in take) if take is not None else None,
        clean_place=(tuple(PlaceRule(_rule_part(name, r, 0), _rule_part(name, r, 1)) for r in place)
                     if place is not None else None),
    )


def _rule_part(task: str, rule: object, index: int) -> str:
    if not isinstance(rule, (list, tuple)) or len(rule) < 2 or not isinstance(rule[index], str):
        raise GameError(f"Task {task!r}: cleaning rule {rule!r} must be [item, holder, {{...}}].")
    return rule[index]


# ---------------------------------------------------------------- generator specs

class _RaisingParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so a bad spec is an error, not a process exit."""

    def error(self, message: str):  # noqa: D401 - argparse hook
        raise GameError(message)


@dataclass(frozen=True)
class GameSpec:
    kind: str
    options: tuple[tuple[str, str | None], ...]  # sorted (name, value or None for a flag)

    @property
    def canonical(self) -> str:
        parts = [k if v is None else f"{k}={v}" for k, v in self.options]
        return f"{self.kind}:{','.join(parts)}"

    def argv(self) -> list[str]:
        out: list[str] = []
        for key, value in self.options:
            out.append("--" + key.replace("_", "-"))
            if value is not None:
                out.append(value)
        return out


def _challenges() -> dict:
    import textworld.challenges
    return textworld.challenges.CHALLENGES


def generator_kinds() -> list[str]:
    return sorted(["custom", *_challenges()])


def looks_like_spec(text: str) -> bool:
    kind = text.split(":", 1)[0]
    return ":" in text or kind == "custom" or kind.startswith("tw-")


def parse_spec(text: str) -> GameSpec:
    """Parse and validate ``KIND:opt,key=value`` against the generator's own tw-make options."""
    kind, _, rest = text.strip().partition(":")
    kinds = generator_kinds()
    if kind not in kinds:
        raise GameError(f"Unknown game kind {kind!r} in spec {text!r}. Kinds: {', '.join(kinds)}. "
                        f"Examples: {SPEC_EXAMPLES}")
    options: dict[str, str | None] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if key == "seed":
            raise GameError(f"Spec {text!r}: give the seed separately (--seed), not inside the spec.")
        options[key] = value.strip() if eq else None
    spec = GameSpec(kind, tuple(sorted(options.items())))
    _parse_options(spec)  # validate now, before any generation work
    return spec


def _parse_options(spec: GameSpec) -> argparse.Namespace:
    parser = _RaisingParser(prog=spec.kind, add_help=False)
    if spec.kind == "custom":
        parser.add_argument("--world-size", type=_at_least(1), default=5)
        parser.add_argument("--nb-objects", type=_at_least(0), default=10)
        parser.add_argument("--quest-length", type=_at_least(1), default=5)
        parser.add_argument("--quest-breadth", type=_at_least(1), default=1)
        parser.add_argument("--theme", default="house")
    else:
        _challenges()[spec.kind][2](parser)
    try:
        args = parser.parse_args(spec.argv())
    except GameError as exc:
        options = sorted(a.dest for a in parser._actions if a.dest != "help")
        raise GameError(f"Bad spec {spec.canonical!r}: {exc}. Options of {spec.kind}: "
                        f"{', '.join(options)}. Examples: {SPEC_EXAMPLES}") from None
    return args


def _at_least(low: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise ValueError(text)  # argparse: "invalid parse value"; the message below names the range
        return value
    parse.__name__ = f"whole number >= {low}"
    return parse


def generate_game(spec: GameSpec | str, seed: int = 0, cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of the .z8 game for ``spec`` and ``seed``, generating it offline on a cache miss."""
    if isinstance(spec, str):
        spec = parse_spec(spec)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = f"{spec.canonical}|seed={seed}"
    slug = re.sub(r"[^a-z0-9]+", "-", spec.canonical.lower()).strip("-")
    folder = cache / f"{slug}-s{seed}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    game_file = folder / "game.z8"
    if game_file.is_file():
        return game_file
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".gen-", dir=cache))
    try:
        _compile(spec, seed, tmp / "game.z8")
        (tmp / "spec.txt").write_text(key + "\n", encoding="utf-8")
        try:
            os.rename(tmp, folder)  # atomic: a half-written game is never visible
        except OSError:
            if not game_file.is_file():  # lost a race only if the other writer finished
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("generated %s (seed %d) into %s", spec.canonical, seed, folder)
    return game_file


def default_cache_dir() -> Path:
    env = os.environ.get("GRAPHMEM_TW_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "graphmem" / "tw_games"


def _compile(spec: GameSpec, seed: int, target: Path) -> None:
    import textworld
    from textworld.generator import QuestGenerationError

    args = _parse_options(spec)
    options = textworld.GameOptions()
    options.seeds = seed
    options.path = str(target)
    options.file_ext = ".z8"
    options.force_recompile = True
    if spec.kind == "custom":
        options.nb_rooms = args.world_size
        options.nb_objects = args.nb_objects
        options.chaining.min_length = options.chaining.max_length = args.quest_length
        options.chaining.max_depth = args.quest_length
        options.chaining.min_breadth = options.chaining.max_breadth = args.quest_breadth
        options.grammar.theme = args.theme
        try:
            textworld.make(options)
        except QuestGenerationError as exc:
            raise GameError(f"No quest fits {spec.canonical!r} (seed {seed}): try a shorter "
                            f"quest_length or more rooms/objects. ({exc})") from exc
        return
    make_game = _challenges()[spec.kind][1]
    try:
        game = make_game(settings=vars(args), options=options)
    except Exception as exc:  # noqa: BLE001 - challenges check their settings with assorted errors
        raise GameError(f"Cannot generate {spec.canonical!r} (seed {seed}): {str(exc).rstrip('.')}. Examples: "
                        f"{SPEC_EXAMPLES}") from exc
    textworld.generator.compile_game(game, options)


# ---------------------------------------------------------------- one entry point

def resolve_game(game: str, tasks: str | os.PathLike | None = None, seed: int = 0,
                 cache_dir: str | os.PathLike | None = None) -> Task:
    """Turn a game reference (.z8 path, task name, or generator spec) into a Task."""
    if tasks is not None:
        table = load_tasks(tasks)
        if game in table:
            task = table[game]
            if not task.game_path.is_file():
                raise GameError(f"Task {game!r}: its game file {task.game_path} does not exist.")
            return task
    if game.lower().endswith(GAME_SUFFIXES) or os.sep in game:
        path = Path(game)
        if not path.is_file():
            raise GameError(f"Game file not found: {path}. Pass an existing .z8 file, a task name "
                            f"with --tasks FILE, or a generator spec ({SPEC_EXAMPLES}).")
        return task_for_game_file(path)
    if looks_like_spec(game):
        spec = parse_spec(game)
        path = generate_game(spec, seed=seed, cache_dir=cache_dir)
        return task_for_game_file(path, name=f"{spec.canonical}@{seed}")
    known = f" Tasks in {tasks}: {', '.join(sorted(load_tasks(tasks)))}." if tasks is not None else \
        " (No --tasks FILE was given.)"
    raise GameError(f"Unknown game {game!r}: not a .z8 path, not a task name, not a generator spec."
                    f"{known} Spec examples: {SPEC_EXAMPLES}")


def split_games(text: str, tasks: str | os.PathLike | None = None) -> list[str]:
    """The games in a list like ``tw-cooking:recipe=1,take=1,go=1,cook_1_1_cut``.

    Games are separated by ``;``, or by a comma where the next piece starts a new game: a task name
    of ``tasks``, a game file path, or a generator spec (``tw-...``, ``custom...``, ``KIND:...``).
    Any other piece after a generator spec is one more of its options.
    """
    names = set(load_tasks(tasks)) if tasks is not None else set()

    def starts_game(piece: str) -> bool:
        return piece in names or os.sep in piece or piece.lower().endswith(GAME_SUFFIXES) or \
            looks_like_spec(piece)

    games: list[str] = []
    for part in text.split(";"):
        for piece in (p.strip() for p in part.split(",")):
            if not piece:
                continue
            if games and not starts_game(piece) and looks_like_spec(games[-1]) and games[-1] not in names:
                games[-1] += "," + piece
            else:
                games.append(piece)
        games.append("")  # a ';' always ends the game before it
    return [g for g in games if g]


def check_game_file(path: Path) -> None:
    """Refuse a file the engine cannot run: the engine ends the whole process on a bad story file.

    A Z-machine file starts with its version (1-8) and declares its length at 0x1A (in units of 2,
    4 or 8 bytes by version); a Glulx file starts with "Glul".
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
        size = path.stat().st_size
    except OSError as exc:
        raise GameError(f"Cannot read game file {path}: {exc.strerror}") from None
    if head[:4] == b"Glul":
        return
    scale = {1: 2, 2: 2, 3: 2, 4: 4, 5: 4}.get(head[0] if head else 0, 8)
    declared = int.from_bytes(head[0x1A:0x1C], "big") * scale if len(head) == 64 else 0
    if len(head) < 64 or not 1 <= head[0] <= 8 or declared > size:
        raise GameError(f"{path} is not a playable game (not a Z-machine or Glulx story file, or cut "
                        f"short): pass a .z8 made by tw-make, a task name, or a generator spec.")


def task_for_game_file(path: Path, name: str | None = None) -> Task:
    """A Task for a bare game file: goal and walkthrough come from the game's metadata if present."""
    goal, walkthrough = "", None
    meta = path.with_suffix(".json")
    if meta.is_file():
        import textworld
        data = textworld.Game.load(str(meta))
        goal = data.objective or ""
        walkthrough = tuple(data.walkthrough) if data.walkthrough else None
    return Task(name=name or path.stem, game_path=path.resolve(), goal=goal, walkthrough=walkthrough)
