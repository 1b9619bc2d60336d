"""Patterns of text-game commands (lower-cased), shared by the modules that weigh candidates, and
the general verb vocabulary an agent builds commands from when the game gives no command list."""
import re

TAKE = re.compile(r"^take (.+?)(?: from (.+))?$")
PUT = re.compile(r"^(?:put|insert) (.+?) (?:on|into|in) (.+)$")
OPEN = re.compile(r"^open (.+)$")
UNLOCK = re.compile(r"^unlock (.+) with (.+)$")
EXAMINE = re.compile(r"^(?:examine|read) (.+)$")
CONSUME = re.compile(r"^(eat|drink) (.+)$")
GO = re.compile(r"^(?:go|move) (\w+)$")

# Verbs text games share (TextWorld, TextWorldExpress, Inform's defaults): an instruction is
# recognised as a command when it starts with one of them.
VERBS = frozenset({
    "take", "get", "drop", "put", "place", "insert", "open", "close", "unlock", "lock", "examine",
    "read", "look", "eat", "drink", "cook", "chop", "slice", "dice", "cut", "grill", "roast", "fry",
    "touch", "smell", "taste", "listen", "move", "go", "walk", "push", "pull", "turn", "wear",
    "remove", "give", "prepare", "fill", "wash", "clean", "climb", "enter", "inventory", "search",
    "throw", "light", "plant", "water", "mix", "pour", "feed", "buy", "sell", "use", "check",
})
MOVE_VERBS = ("go", "move")  # the first that the game has not refused leads each move
ARTICLES = frozenset({"the", "a", "an", "some"})


READABLE = ("note", "letter", "book", "paper", "map", "scroll", "cookbook", "recipe", "sign", "problem",
            "instructions", "manual", "card", "menu")


def readable(thing: str) -> bool:
    """Whether ``thing`` is read by its head word ("instructions book", "note 2"; not "book case")."""
    words = [w for w in thing.split() if not w.isdigit()]
    return bool(words) and words[-1] in READABLE


def normalize_command(text: str) -> str:
    """A command as games read it: lower case, single spaces, no articles, no end punctuation."""
    words = re.sub(r"[^\w\s'-]", " ", text.lower()).split()
    return " ".join(w for w in words if w not in ARTICLES)


def verb_of(command: str) -> str:
    return command.split(" ", 1)[0] if command else ""
