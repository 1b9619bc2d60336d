"""Read LoCoMo (snap-research/LoCoMo's ``locomo10.json`` shape) as it is.

Each conversation has ``speaker_a``/``speaker_b``, ``session_N`` turn lists (``speaker``,
``dia_id`` such as "D1:3", ``text``, sometimes ``blip_caption`` for a shared photo) with their
``session_N_date_time``, and ``qa`` items: ``question``, ``answer`` (category 5: an
``adversarial_answer`` and no answer), ``evidence`` (turn ids) and ``category`` (1 multi-hop,
2 temporal, 3 open-domain, 4 single-hop, 5 adversarial, as the later papers read LoCoMo's
evaluation code). Other fields (LoCoMo's generated summaries and observations) are not read: a user's
assistant has only the turns.

A few evidence ids are malformed. Two shapes are repaired and counted ("D8:6; D9:17" is two ids,
"D:11:26" is "D11:26"); ids that name no turn stay in the gold set, counted, so recall is not
flattered and no question is dropped silently.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from graphmem.dialogue import Turn, with_listeners
from graphmem.errors import GraphmemError
from graphmem.util.jsonfile import read_json

log = logging.getLogger(__name__)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_SESSION = re.compile(r"^session_(\d+)$")


class LocomoError(GraphmemError, ValueError):
    """A LoCoMo file that cannot be read; the message names what is wrong."""


@dataclass
class ConversationQuestion:
    id: str
    question: str
    answer: str
    category: int
    evidence: list[str] = field(default_factory=list)
    adversarial_answer: str = ""  # category 5: the answer the question was written to tempt

    @property
    def answers(self) -> list[str]:
        return [self.answer]


@dataclass
class Conversation:
    id: str
    speakers: tuple[str, str]
    turns: list[Turn]
    questions: list[ConversationQuestion]
    repaired_evidence: int = 0  # ids read after a repair ("D8:6; D9:17", "D:11:26")
    missing_evidence: int = 0   # ids that name no turn (kept in the gold set)


def _turns(conv: dict) -> list[Turn]:
    sessions = sorted((int(m.group(1)), key) for key in conv if (m := _SESSION.match(key)))
    turns = []
    for n, key in sessions:
        time = str(conv.get(f"{key}_date_time", ""))
        for t in conv[key] or []:
            turns.append(Turn(speaker=str(t["speaker"]), text=str(t.get("text", "")), session=str(n),
                              time=time, id=str(t["dia_id"]), caption=str(t.get("blip_caption") or "")))
    return with_listeners(turns)


def _evidence(raw: list, known: set[str], counts: dict[str, int]) -> list[str]:
    out = []
    for item in raw:
        parts = [p.strip() for p in str(item).split(";") if p.strip()]
        for part in parts:
            fixed = re.sub(r"^D:(\d+):(\d+)$", r"D\1:\2", part)
            if len(parts) > 1 or fixed != part:
                counts["repaired"] += 1
            if fixed not in known:
                counts["missing"] += 1
            out.append(fixed)
    return list(dict.fromkeys(out))


def _conversation(item: dict) -> Conversation:
    conv = item["conversation"]
    turns = _turns(conv)
    known = {t.id for t in turns}
    counts = {"repaired": 0, "missing": 0}
    questions = []
    for i, q in enumerate(item.get("qa", [])):
        category = int(q["category"])
        answer = q.get("answer", q.get("adversarial_answer", "")) if category != 5 else ""
        questions.append(ConversationQuestion(
            id=f"{item['sample_id']}#{i}", question=str(q["question"]), answer=str(answer),
            category=category, evidence=_evidence(q.get("evidence", []), known, counts),
            adversarial_answer=str(q.get("adversarial_answer") or "") if category == 5 else ""))
    return Conversation(str(item["sample_id"]), (str(conv["speaker_a"]), str(conv["speaker_b"])), turns,
                        questions, counts["repaired"], counts["missing"])


def load_locomo(path: str, conversations: list[str] | None = None) -> list[Conversation]:
    """The conversations of a LoCoMo file (only those named in ``conversations``, in file order)."""
    raw = read_json(path, LocomoError)
    if not isinstance(raw, list):
        raise LocomoError(f"{path}: expected a list of conversations (LoCoMo's locomo10.json shape)")
    out = []
    for n, item in enumerate(raw):
        try:
            if conversations is None or item["sample_id"] in conversations:
                out.append(_conversation(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else "a field has the wrong shape"
            raise LocomoError(f"{path}: conversation {n}: {what} (see LoCoMo's locomo10.json)") from None
    if conversations is not None:
        unknown = sorted(set(conversations) - {c.id for c in out})
        if unknown:
            raise LocomoError(f"{path} has no conversation {', '.join(unknown)}; it has "
                              f"{', '.join(str(i.get('sample_id')) for i in raw if isinstance(i, dict))}")
    for c in out:
        if c.repaired_evidence or c.missing_evidence:
            log.info("%s: %d evidence ids repaired, %d name no turn", c.id, c.repaired_evidence,
                     c.missing_evidence)
    return out
