"""Baseline agents on the same LLM, temperature and action interface as Ariadne; only memory differs.

- full-history: every past (action, observation) pair, oldest cut first beyond a size budget;
- summary: a running summary the LLM rewrites each step (one extra call);
- rag: past observations retrieved by embedding similarity (the memory's embedder) to the current
  observation and the goal.
All of them also see the last few steps and the current observation, like Ariadne.
"""
from __future__ import annotations

import json
import logging
import re

from graphmem_environments.textworld import StepResult, Task
from graphmem.embedders.sentence_transformer import Embedder, default_embedder
from graphmem.llm import ChatModel
from graphmem.llm.structured import Answer, JSONAsker
from graphmem.vectors.vector_index import VectorIndex

from .base import OBSERVATION_CHARS, RecentSteps, goal_block, options_of, shorten
from .choice import Candidate, Chooser, messages

log = logging.getLogger("graphmem_agents.baselines")


class PromptAgent:
    """Shared loop: remember the last step, build a context, choose among the admissible actions.

    The chooser is Ariadne's, with no priors: each baseline's memory is the only difference. Actions
    repeated with the same response in the recent window are not offered (when others remain)."""

    name = ""

    def __init__(self, llm: ChatModel, recent_steps: int = 4, shortlist: int = 40, temperature: float = 0.0,
                 seed: int = 0) -> None:
        self.llm = llm
        self.recent = RecentSteps(recent_steps)
        self.chooser = Chooser(llm, shortlist=shortlist, temperature=temperature, seed=seed)

    def reset(self, task: Task) -> None:
        self.task = task
        self.recent.clear()
        self.last_action: str | None = None
        self.step = 0

    def act(self, result: StepResult) -> str | None:
        if result.done:
            return None
        self.step += 1
        if self.last_action is not None:
            self.remember(self.last_action, result.observation)
            self.recent.add(self.last_action, result.observation)
        context = self.context(result)
        extra = self.before_choice(context)
        stale = set(self.recent.without_effect())
        options = [o for o in options_of(result) if o not in stale] or options_of(result)
        self.last_action = self.chooser.choose(context + extra, [Candidate(o) for o in options]).command
        return self.last_action

    def override(self, action: str) -> None:
        self.last_action = action

    def stats(self) -> dict:
        return {"memory_size": self.memory_size(), "action_fallbacks": self.chooser.fallbacks}

    def context(self, result: StepResult) -> str:
        return "\n".join([goal_block(self.task), *self.memory_lines(result), *self.recent_lines(),
                          f"Observation: {shorten(result.observation, OBSERVATION_CHARS)}"])

    def recent_lines(self) -> list[str]:
        return ["Recent steps:", self.recent.render()]

    # --- what each baseline changes ---------------------------------------------------------------
    def remember(self, action: str, observation: str) -> None:
        """Store the previous step (its action and the observation it led to)."""

    def memory_lines(self, result: StepResult) -> list[str]:
        return []

    def before_choice(self, context: str) -> str:
        """Extra calls before the choice; returns text appended to the context."""
        return ""

    def memory_size(self) -> int:
        return 0


class FullHistoryAgent(PromptAgent):
    name = "full-history"

    def __init__(self, llm: ChatModel, max_chars: int = 6000, **kw) -> None:
        super().__init__(llm, **kw)
        self.max_chars = max_chars  # ~1,500 tokens: keeps prompts inside a 4k context

    def reset(self, task: Task) -> None:
        super().reset(task)
        self.history: list[str] = []
        self.cut = 0  # oldest steps left out for size

    def remember(self, action: str, observation: str) -> None:
        self.history.append(f"> {action}: {' '.join(observation.split())}")

    def memory_lines(self, result: StepResult) -> list[str]:
        # The first observation is the game's introduction: always shown (it says where things are).
        lines = [f"Start: {shorten(self._start, OBSERVATION_CHARS)}"] if self.step > 1 else []
        while self.cut < len(self.history) - 1 and sum(len(h) for h in self.history[self.cut:]) > self.max_chars:
            self.cut += 1  # only ever grows, so the shown history stays a stable prefix between cuts
        return [*lines, "History:", *(self.history[self.cut:] or ["(none)"])]

    def recent_lines(self) -> list[str]:
        return []  # the history holds the recent steps already, uncut

    def act(self, result: StepResult) -> str | None:
        if self.step == 0:
            self._start = result.observation
        return super().act(result)

    def memory_size(self) -> int:
        return len(self.history)


SUMMARY_SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}
# A reply cut off inside its summary string: the complete characters and escapes it wrote, then at
# most an escape cut short (a lone backslash, or "u" with fewer than four hex digits), dropped.
CUT_OFF_SUMMARY = re.compile(r'\s*\{\s*"summary"\s*:\s*"((?:[^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*)'
                             r'(?:\\(?:u[0-9a-fA-F]{0,3})?)?$', re.S)


class SummaryAgent(PromptAgent):
    name = "summary"

    def __init__(self, llm: ChatModel, max_words: int = 80, **kw) -> None:
        super().__init__(llm, **kw)
        self.max_words = max_words
        self.asker = JSONAsker(llm, SUMMARY_SCHEMA, task="summary", max_tokens=2 * max_words + 40, retries=0)
        self.fallbacks = 0
        self.salvages = 0  # replies cut off mid-summary whose words were kept

    def reset(self, task: Task) -> None:
        super().reset(task)
        self.summary = ""

    def memory_lines(self, result: StepResult) -> list[str]:
        return [f"Summary so far: {self.summary or '(empty)'}"]

    def before_choice(self, context: str) -> str:
        instruction = (f"Rewrite the summary so far to include what the observation adds (items, places, "
                       f"exits, recipe, what was done). At most {self.max_words} words. "
                       'Reply {"summary": "..."}')
        answer = self.asker.ask(messages(context, instruction))
        text = answer.data["summary"] if answer.data is not None else self.salvaged(answer)
        if not text.strip():
            self.fallbacks += 1
            log.warning("summary: bad reply; keeping the old summary (fallback #%d)", self.fallbacks)
        else:
            words = text.split()
            self.summary = " ".join(words[: 2 * self.max_words])  # a runaway reply must not grow the prompt
        return f"\nUpdated summary: {self.summary}"

    def salvaged(self, answer: Answer) -> str:
        """The summary a reply cut off at max_tokens had written so far ('' if none): a small model
        that overruns its word budget has still rewritten the summary, and keeping the old one
        would freeze it for the rest of the game."""
        match = CUT_OFF_SUMMARY.match(answer.results[-1].text) if answer.results else None
        if match is None:
            return ""
        self.salvages += 1
        log.info("summary: reply cut off; keeping the %d words it wrote (salvage #%d)",
                 len(match.group(1).split()), self.salvages)
        return json.loads(f'"{match.group(1)}"', strict=False)  # a backend without a grammar may write raw newlines

    def stats(self) -> dict:
        return {**super().stats(), "summary_fallbacks": self.fallbacks, "summary_salvages": self.salvages}

    def memory_size(self) -> int:
        return len(self.summary.split())


class RAGAgent(PromptAgent):
    name = "rag"

    def __init__(self, llm: ChatModel, embedder: Embedder | None = None, top_k: int = 3, **kw) -> None:
        super().__init__(llm, **kw)
        self.embedder = embedder or default_embedder()
        self.top_k = top_k

    def reset(self, task: Task) -> None:
        super().reset(task)
        self.index = VectorIndex(self.embedder.dim)
        self.texts: dict[str, str] = {}

    def remember(self, action: str, observation: str) -> None:
        key = f"s{self.step - 1}"  # the step whose action led to this observation
        self.texts[key] = f"[step {self.step - 1}] > {action}: {shorten(observation, 300)}"
        self.index.add([key], self.embedder.encode([f"{action}: {observation}"]))

    def memory_lines(self, result: StepResult) -> list[str]:
        if not len(self.index):
            return ["Retrieved past steps: (none)"]
        query = self.embedder.encode([f"{self.task.goal} {result.observation}"])[0]
        recent = self.step - 1 - len(self.recent.items)  # steps still in the recent window are not repeated
        hits = [k for k, _ in self.index.search(query, self.top_k + len(self.recent.items))
                if int(k[1:]) <= recent][: self.top_k]
        return ["Retrieved past steps:", *([self.texts[k] for k in sorted(hits, key=lambda k: int(k[1:]))]
                                           or ["(none)"])]

    def memory_size(self) -> int:
        return len(self.texts)


BASELINES = {a.name: a for a in (FullHistoryAgent, SummaryAgent, RAGAgent)}
