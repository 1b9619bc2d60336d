"""Domain profiles: what the engine knows about the kind of text it remembers.

A profile is passed to ``Memory``, to the extractors and to the judges of outdated facts. It holds
the vocabulary (relation spellings, directions, states), which relations are single-valued, which
states exclude each other, what retires what, which names never become entities, how names are
resolved, the words the offline extractor reads the text by, and how prompts describe the text.

- ``TEXT_GAME``: one world in one state at a time. A newer observation retires what it contradicts
  (a thing is in one place; a door is open or closed), whichever observation stated the old fact.
- ``DOCUMENTS``: many sources, none newer than another. A fact retires another only when the same
  source states both (a passage read again); "Ulm is in Germany" from one passage and "Ulm is in
  Baden-Württemberg" from another both stay current, each with its sources.
- ``DIALOGUE``: a conversation's turns. Facts that compete (where someone lives or works, whom
  they are married to) retire the older one whoever said it, as in a game; everything else stays
  side by side, as in documents. "I" and "you" are the speaker and the listener, and relative
  times are resolved against the session's date (``graphmem.dialogue``).

The game vocabulary below is the one memory, agents, navigation and the ground truth share; read it
from here rather than restating it.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Mapping

from ..errors import ConfigError
from ..normalize import ResolverConfig

# --- the text-game vocabulary ------------------------------------------------------------------
OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east", "up": "down",
            "down": "up", "northeast": "southwest", "southwest": "northeast",
            "northwest": "southeast", "southeast": "northwest"}
DIRECTIONS = tuple(OPPOSITE)  # a fixed order: paths and hints never depend on set order
INVENTORY = "inventory"       # (thing, "in", "inventory"): what the player carries
EXIT = "has exit"             # (room, "has exit", direction)
OPENNESS = ("open", "closed", "locked")
COOKING_STATES = frozenset({"raw", "cooked", "roasted", "fried", "grilled", "burned"})
CUT_STATES = frozenset({"sliced", "diced", "chopped", "uncut"})
PREPARED_STATES = COOKING_STATES | CUT_STATES  # what a recipe may ask an ingredient to be
# A thing in one of these states is nowhere any more: "meal is eaten" retires "meal in inventory".
GONE_STATES = frozenset({"eaten", "drunk", "consumed", "destroyed", "gone"})
# Location relations are prepositions, maybe after a verb of position: "in", "is on", "lies on",
# "located in" all place a thing, and all are one relation to the judges.
LOCATION_PREPOSITIONS = frozenset({"in", "on", "at", "inside"})
_POSITION_VERBS = frozenset({"is", "are", "was", "were", "lies", "lie", "lying", "rests", "rest",
                             "resting", "sits", "sit", "sitting", "stands", "stand", "standing",
                             "hangs", "hang", "hanging", "located", "placed", "kept"})
_CONNECTION = re.compile(rf"^is ({'|'.join(DIRECTIONS)}) of$")


def connection(direction: str) -> str:
    """The relation of (room B, ..., room A) when B lies ``direction`` of A: "is west of"."""
    return f"is {direction} of"


def connection_direction(relation: str) -> str | None:
    """"west" for "is west of"; None for any other relation."""
    m = _CONNECTION.match(relation)
    return m.group(1) if m else None


@functools.lru_cache(maxsize=65536)
def is_location(relation: str) -> bool:
    """Whether ``relation`` places its subject in or on its object ("in", "is on", "lies on")."""
    words = relation.split()
    while len(words) > 1 and words[0] in _POSITION_VERBS:
        words = words[1:]
    return len(words) == 1 and words[0] in LOCATION_PREPOSITIONS


# Names that refer to something only in context; as entities they would join unrelated facts.
PRONOUNS = frozenset("it he she they them him her his its their this that these those which who whom "
                     "what there here one ones i we you me us".split())


@dataclass(frozen=True)
class Vocabulary:
    """The words the offline extractor reads a domain's text by (graphmem/extract/): data, so that
    each profile reads its own kind of text. A game's flavour nouns ("room", "wall", "score") are
    never things in a game, and they end names in documents ("Berlin Wall", "Independence Day")."""

    not_things: frozenset[str]         # nouns that never name a thing, nor end a thing's name
    state_words: Mapping[str, str]     # a word -> the state it gives a thing: "shut" -> "closed"
    prepared_states: frozenset[str]    # states too where they lead a name: "raw white tuna"
    perceive: frozenset[str]           # verbs whose objects are things present: "you see a key"
    take: frozenset[str]               # the player's actions: "you take X" puts X in the inventory,
    drop: frozenset[str]               # "you drop X" in the room, "you put X on Y" on Y
    put: frozenset[str]
    opening: Mapping[str, str]         # "you unlock X" -> X is closed
    used_up: Mapping[str, str]         # "you eat X" -> X is eaten (a gone state: X is nowhere)
    preparing: Mapping[str, str]       # "you slice X" -> X is sliced
    room_places: frozenset[str]        # "on the floor", "in the corner": in the room itself
    exit_words: frozenset[str]         # a direction after these is a way out: "going west"
    needs_headers: frozenset[str]      # a written list under "Ingredients:" names what it needs,
    step_headers: frozenset[str]       # one under "Directions:" the steps to do


# Nouns that say nothing in any text: pronoun-like words, measures, and the nouns of idioms
# ("took place", "at the time", "in fact", "caught the attention of", "in other words").
VAGUE_NOUNS = frozenset({
    "you", "i", "it", "that", "this", "thing", "things", "one", "something", "anything", "nothing",
    "everything", "someone", "somebody", "everybody", "lot", "kind", "sort", "type", "bit", "way",
    "fun", "deal", "idea", "time", "moment", "fact", "eye", "eyes", "glance", "look", "breath",
    "attention", "sense", "surprise", "interest", "point", "place", "stuff", "hell", "heck", "fancy",
    "joy", "excitement", "direction", "hand", "hands", "word", "words"})

GAME_VOCABULARY = Vocabulary(
    # TextWorld's flavour text ("You bend down to tie your shoe") and the room's own parts: names
    # in documents ("Berlin Wall", "Independence Day", "Puget Sound").
    not_things=VAGUE_NOUNS | frozenset(DIRECTIONS) | frozenset({
        "text adventure", "adventure", "textworld", "shoe", "smell", "exit", "exits", "entranceway",
        "doorway", "doors", "head", "feet", "foot", "room", "floor", "ground", "corner", "wall",
        "score", "sign", "signs", "dust", "day", "noise", "sound", "copy"}),
    state_words={"open": "open", "opened": "open", "closed": "closed", "shut": "closed",
                 "locked": "locked", "unlocked": "closed"},
    prepared_states=PREPARED_STATES,
    perceive=frozenset({"see", "make", "notice", "spot", "find", "discover", "recognize", "observe",
                        "glimpse", "be", "look", "scan", "catch", "figure", "follow", "trip", "stumble",
                        "reckon", "lie", "stand", "sit", "rest", "hang", "fall", "bump", "reveal"}),
    take=frozenset({"take", "pick", "grab", "get"}),
    drop=frozenset({"drop", "discard"}),
    put=frozenset({"put", "place", "insert", "set", "add"}),
    opening={"open": "open", "close": "closed", "unlock": "closed", "lock": "locked"},
    used_up={"eat": "eaten", "drink": "drunk", "consume": "consumed", "destroy": "destroyed"},
    preparing={"slice": "sliced", "dice": "diced", "chop": "chopped", "roast": "roasted",
               "fry": "fried", "grill": "grilled", "cook": "cooked"},
    room_places=frozenset({"floor", "ground", "corner", "room", "middle", "center", "centre", "wall",
                           "here"}),
    exit_words=frozenset({"exit", "entranceway", "path", "passage", "doorway", "way", "going", "go",
                          "leading", "leads", "head", "heading"}),
    needs_headers=frozenset({"ingredients", "ingredient", "items", "you need", "requirements",
                             "materials"}),
    step_headers=frozenset({"directions", "instructions", "steps", "method", "preparation", "to do"}),
)


@dataclass(frozen=True)
class Prompts:
    """How LLM prompts describe the text: the extractor's instructions and worked examples, the
    label of the text in a request, and the outdated-fact judge's instructions."""

    extract_system: str
    extract_examples: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...]
    text_label: str
    judge_system: str


@dataclass(frozen=True)
class DomainProfile:
    name: str
    # Relations with one value per subject: a new value retires the old one.
    single_valued: frozenset[str] = frozenset()
    location_is_single: bool = True  # every location relation counts as one single-valued relation
    # Single-valued relations that set one aspect together: "moved to" retires "lives in".
    aspects: Mapping[str, str] = field(default_factory=dict)
    state_groups: tuple[frozenset[str], ...] = ()  # values of ("x", "is", value) that exclude each other
    gone_states: frozenset[str] = frozenset()      # ("x", "is", gone) retires where x was
    # False: only a fact stated by the same source can be retired (documents).
    retire_across_sources: bool = True
    ignored_names: frozenset[str] = PRONOUNS
    vocabulary: Vocabulary = GAME_VOCABULARY  # the words the offline extractor reads the text by
    resolver: ResolverConfig = field(default_factory=ResolverConfig)
    prompts: Prompts | None = None
    # Episodes are texts to retrieve (passages, turns): a corpus graph answers questions over them.
    passages: bool = False
    # An episode's "I"/"my" are its speaker, "you" its listener (episode metadata), for extraction.
    speaker_pronouns: bool = False
    # Relative times ("yesterday", "last week") are dated by the episode's "time" metadata.
    relative_times: bool = False
    # An episode's title is embedded with its text (a document's name says what it is about); a
    # turn's title is its session's date-time, which a sentence embedder reads as noise.
    embeds_title: bool = True

    def state_group(self, value: str) -> frozenset[str] | None:
        for group in self.state_groups:
            if value in group:
                return group
        return None

    def aspect(self, relation: str) -> str:
        """What a relation says about its subject: every location relation is one aspect."""
        if self.location_is_single and is_location(relation):
            return "location"
        return self.aspects.get(relation, relation)


# --- prompts -----------------------------------------------------------------------------------
_GAME_EXTRACT = """You extract facts from a text game observation for a knowledge graph.
Each fact is a triple [subject, relation, object]; each part is at most 7 words.
Prefer these forms:
[item, "in", room or container]
[item, "on", supporter]
[item, "in", "inventory"] for what the player carries or takes
[container or door, "is", "open" or "closed" or "locked"]
[room, "has exit", direction], the room being the one in the -= Room =- header
[room B, "is north of", room A] only when the text names both rooms
Other facts get a short verb phrase as relation.
State only what the observation says. Known names are for naming the same things the same way.
Reply as JSON: {"triples": [[subject, relation, object], ...]}"""

# Two worked examples: a room description, and an action whose only news is one changed fact
# (without the second, small models repeat old facts after every action).
_GAME_EXAMPLES = (
    ("kitchen",
     "-= Pantry =-\nYou are in a pantry. On the shelf is a red apple. A closed wooden chest is here. "
     "There is an exit to the north.",
     (("shelf", "in", "pantry"), ("red apple", "on", "shelf"), ("wooden chest", "in", "pantry"),
      ("wooden chest", "is", "closed"), ("pantry", "has exit", "north"))),
    ("pantry, shelf, red apple, wooden chest",
     "Action: take red apple\nYou take the red apple from the shelf.",
     (("red apple", "in", "inventory"),)),
)

_GAME_JUDGE = """You keep a knowledge graph of a text game up to date.
Given new facts and numbered existing facts, list the existing facts that the new facts make false:
the same thing now in another place, or the same container in another state (open, closed, locked).
A fact about another aspect stays true even if it shares a name. When unsure, keep the fact.
Reply as JSON: {"outdated": [numbers]}"""

_DOC_EXTRACT = """You extract facts from a passage of a document for a knowledge graph.
Each fact is a triple [subject, relation, object]; each part is at most 7 words.
Subjects and objects are names (people, places, organisations, works, events) or values (dates,
numbers); use the fullest name the passage gives, and the name a pronoun stands for.
The relation is a short verb phrase: "born in", "capital of", "directed by", "member of".
State only what the passage says. Known names are for naming the same things the same way.
Reply as JSON: {"triples": [[subject, relation, object], ...]}"""

_DOC_EXAMPLES = (
    ("germany",
     "Ulm\nUlm is a city in the German state of Baden-Württemberg, on the River Danube. "
     "Albert Einstein was born there in 1879.",
     (("ulm", "city in", "baden-württemberg"), ("baden-württemberg", "state of", "germany"),
      ("ulm", "on", "river danube"), ("albert einstein", "born in", "ulm"),
      ("albert einstein", "born in year", "1879"))),
)

_DOC_JUDGE = """You keep a knowledge graph of documents up to date.
Given new facts and numbered existing facts, both stated by the same passage, list the existing
facts that the new facts correct: the same attribute of the same thing with another value that
cannot also be true. Facts that can both hold stay. When unsure, keep the fact.
Reply as JSON: {"outdated": [numbers]}"""

_DIALOGUE_EXTRACT = """You extract facts from one turn of a conversation for a knowledge graph.
Each fact is a triple [subject, relation, object]; each part is at most 7 words.
The turn is written with its people named: use those names, never "I" or "you".
Subjects and objects are people, places, things, activities, or dates; a date in [brackets] is
when something happened. The relation is a short verb phrase: "went to", "likes", "works at".
State only what the turn says. Known names are for naming the same things the same way.
Reply as JSON: {"triples": [[subject, relation, object], ...]}"""

_DIALOGUE_EXAMPLES = (
    ("caroline, melanie",
     "Caroline went to a LGBTQ support group yesterday [7 May 2023] and it was so powerful.",
     (("caroline", "went to", "lgbtq support group"), ("caroline", "went to lgbtq support group on", "7 may 2023"))),
)

_DIALOGUE_JUDGE = """You keep a knowledge graph of what people said in a conversation up to date.
Given new facts and numbered existing facts, list the existing facts that the new facts make false:
the same person's home, job, partner or age with another value. Things that happened, likes and
plans stay true side by side. When unsure, keep the fact.
Reply as JSON: {"outdated": [numbers]}"""

# --- the profiles ------------------------------------------------------------------------------
TEXT_GAME = DomainProfile(
    name="text-game",
    state_groups=(frozenset(OPENNESS), COOKING_STATES, CUT_STATES, frozenset({"on", "off"})),
    gone_states=GONE_STATES,
    retire_across_sources=True,
    prompts=Prompts(_GAME_EXTRACT, _GAME_EXAMPLES, "Observation", _GAME_JUDGE),
)

# Corpora hold thousands of names: resolution by exact and singular form only (fuzzy or embedding
# resolution is per name and would dominate a build); the corpus graph links synonyms instead.
DOCUMENTS = DomainProfile(
    name="documents",
    location_is_single=False,  # "Ulm is in Germany" and "Ulm is in Baden-Württemberg" both hold
    retire_across_sources=False,
    # Only the game's flavour nouns are the game's own; its state and action words read documents
    # too (documents without them are unmeasured on the QA sets). A lone direction is no thing.
    vocabulary=replace(GAME_VOCABULARY, not_things=VAGUE_NOUNS | frozenset(DIRECTIONS)),
    resolver=ResolverConfig(use_fuzzy=False, use_embeddings=False),
    prompts=Prompts(_DOC_EXTRACT, _DOC_EXAMPLES, "Passage", _DOC_JUDGE),
    passages=True,
)

# What a person has one of at a time, by the relations that say it (as the extractors write them):
# a newer statement of any of an aspect's relations retires the older one, whoever said it.
PERSONAL_ASPECTS = {
    **dict.fromkeys(("lives in", "live in", "moved to", "move to", "relocated to"), "home"),
    **dict.fromkeys(("works at", "work at", "works for", "work for", "works as", "work as", "job",
                     "started working at", "got job at"), "job"),
    **dict.fromkeys(("married to", "is married to", "engaged to", "dating", "is dating"), "partner"),
    **dict.fromkeys(("age", "is years old"), "age"),
}

DIALOGUE = DomainProfile(
    name="dialogue",
    single_valued=frozenset(PERSONAL_ASPECTS),
    aspects=PERSONAL_ASPECTS,
    location_is_single=False,  # "Melanie went to the beach" and "... to the museum" both happened
    retire_across_sources=True,
    vocabulary=DOCUMENTS.vocabulary,
    resolver=DOCUMENTS.resolver,
    prompts=Prompts(_DIALOGUE_EXTRACT, _DIALOGUE_EXAMPLES, "Turn", _DIALOGUE_JUDGE),
    passages=True,
    speaker_pronouns=True,
    relative_times=True,
    embeds_title=False,
)

PROFILES = {p.name: p for p in (TEXT_GAME, DOCUMENTS, DIALOGUE)}


def profile_named(name: str) -> DomainProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown domain profile {name!r}; choose from {', '.join(PROFILES)}") from None
