"""A self-contained HTML view of a graph, for looking at a memory: one file with inline SVG and plain
JavaScript (the page template ``view.html`` beside this module), nothing fetched, so it opens offline.

The page gets the whole graph as JSON: every fact (current and retired, with its steps and sources),
the episodes that stated them, and what each entity is. A game memory is drawn as rooms holding
their contents, with a timeline over steps; a large graph (a corpus) starts empty and grows from a
searched entity, click by click, instead of drawing thousands of facts at once.

Names and passages come from the graph and the title from a file name, so nothing in them may
become markup: the template's placeholders are filled in one pass (a title holding ``__DATA__`` is
not filled again), text is HTML-escaped, and the JSON in the ``<script>`` has every ``<``, ``>`` and
``&`` escaped, so no ``</script>``, ``<!--`` or ``<script`` can end the script or change how the
browser parses it. The page itself builds its elements with ``textContent``, never from markup.
"""
from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from pathlib import Path

from .util.atomicfile import atomic_write
from .model import Triple
from .normalize import canonical_entity
from .profiles import DOCUMENTS, EXIT, INVENTORY, TEXT_GAME, connection_direction, is_location
from .spatial import room_of
from .store.base import GraphStore

NEIGHBOURHOOD_ABOVE = 250  # entities: above this the page starts from a search, not the whole graph
EPISODE_CHARS = 2000       # episode text kept per episode (passages can be long)
_PLACEHOLDER = re.compile(r"__(TITLE|SUMMARY|DATA)__")
# Escaped inside the JSON's strings (the only place JSON has them): "<" can start "</script>",
# "<!--" or "<script", which change how the browser parses a script element; U+2028 and U+2029
# end a line in older JavaScript.
_SCRIPT_SAFE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"})


def view_data(store: GraphStore, max_facts: int | None = None) -> dict:
    """What the page draws, as JSON-able data; at most ``max_facts`` facts (current ones first)."""
    meta = store.meta()
    game = meta.get("profile") != DOCUMENTS.name
    every = store.triples(current_only=False)
    # Current facts first, then the most recently retired: a cap leaves out the oldest history.
    facts = sorted(every, key=lambda t: (not t.current, -(t.valid_until or 0), t.valid_from, t.subject,
                                         t.relation, t.object))
    facts = facts[:max_facts] if max_facts else facts
    episodes = sorted(store.episodes(), key=lambda e: (e.step, e.id))
    episode_index = {e.id: i for i, e in enumerate(episodes)}
    kinds = _game_kinds(facts, episodes) if game else _document_kinds(facts, episodes)
    names = sorted({n for t in facts for n in _drawn_names(t, game)})
    return {
        "kind": "game" if game else "documents",
        "entities": [[n, kinds.get(n, "thing" if game else "entity")] for n in names],
        # [subject, relation, object, from, until, [episode indexes], flags]: flags 1 = a location
        # fact (groups a thing under its place), 2 = an exit (drawn on its room, not as a node),
        # 4 = a state ("fridge is open": shown beside the thing's name, not as a node).
        "facts": [[t.subject, t.relation, t.object, t.valid_from, t.valid_until,
                   [episode_index[s] for s in t.sources if s in episode_index], _flags(t, game)]
                  for t in facts],
        "episodes": [[e.step, e.title, e.text[:EPISODE_CHARS]] for e in episodes],
        "truncated": len(every) - len(facts),
        "neighbourhood": len(names) > NEIGHBOURHOOD_ABOVE,
    }


def _is_exit(t: Triple, game: bool) -> bool:
    return game and t.relation == EXIT


def _is_state(t: Triple, game: bool) -> bool:
    return game and t.relation == "is" and (TEXT_GAME.state_group(t.object) is not None
                                            or t.object in TEXT_GAME.gone_states)


def _drawn_names(t: Triple, game: bool) -> tuple[str, ...]:
    """The entities a fact draws as nodes: an exit or a state only marks its subject."""
    return (t.subject,) if _is_exit(t, game) or _is_state(t, game) else (t.subject, t.object)


def _flags(t: Triple, game: bool) -> int:
    return (1 if game and is_location(t.relation) else 0) | (2 if _is_exit(t, game) else 0) \
        | (4 if _is_state(t, game) else 0)


def _game_kinds(facts: list[Triple], episodes) -> dict[str, str]:
    """Rooms (headed observations, exits, connections), the inventory; everything else is a thing."""
    rooms = {room for e in episodes if (room := room_of(e.text)) is not None}
    for t in facts:
        if t.relation == EXIT:
            rooms.add(t.subject)
        elif connection_direction(t.relation):
            rooms.update((t.subject, t.object))
    kinds = {r: "room" for r in rooms}
    kinds[INVENTORY] = "inventory"
    return kinds


def _document_kinds(facts: list[Triple], episodes) -> dict[str, str]:
    """Entities that are a passage's title are topics (drawn larger)."""
    titles = {canonical_entity(e.title) for e in episodes if e.title}
    return {n: "topic" for t in facts for n in (t.subject, t.object) if n in titles}


def render_html(store: GraphStore, title: str = "graphmem graph", max_edges: int | None = None) -> str:
    """The page as a string (``max_edges``: at most this many facts in it)."""
    data = view_data(store, max_edges)
    counts = store.counts()
    summary = (f"{counts['current_triples']} current facts, {counts['triples'] - counts['current_triples']}"
               f" retired, {counts['entities']} entities, {counts['episodes']} episodes"
               + (f"; the {data['truncated']} oldest retired facts are left out" if data["truncated"] else ""))
    values = {"TITLE": html.escape(title), "SUMMARY": html.escape(summary),
              "DATA": json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE)}
    page = resources.files(__package__).joinpath("view.html").read_text(encoding="utf-8")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], page)


def write_page(path: str | os.PathLike, page: str) -> None:
    """Write the page atomically: a full disk or a crash leaves the previous page whole."""
    data = page.encode("utf-8")
    atomic_write(Path(path), lambda fh: fh.write(data))
