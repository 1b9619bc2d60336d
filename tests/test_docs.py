"""The README and docs/ stay true to the code: the README stays short, every relative link and
anchor resolves, every `graphmem ...` line shown in a shell code block parses with the real
argument parser, the README's command table names real options of every command, and the cheap
commands shown (offline extraction, a build, recall, Cypher, a view) run end to end."""
from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphmem.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
MAX_README_LINES = 350
SHELL_BLOCKS = ("bash", "sh", "shell", "console")
FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`\n]*`")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _lines_outside_code(path: Path):
    """(line number, line) of the text outside fenced code blocks."""
    fenced = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, lowercase, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in _lines_outside_code(path):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(path: Path):
    """(line number, target) of every link that is not to another site."""
    for n, line in _lines_outside_code(path):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
                yield n, target


@dataclass(frozen=True)
class Shown:
    """One `graphmem ...` command line shown in a shell code block."""
    page: Path
    line: int
    argv: tuple[str, ...]  # the arguments after `graphmem`

    def __str__(self) -> str:
        return f"{_name(self.page)}:{self.line}"


def shown_commands(path: Path) -> list[Shown]:
    """`graphmem` lines of the page's bash/sh/console blocks: continuation lines joined, a console
    prompt and trailing comments dropped."""
    found: list[Shown] = []
    lang = None
    pending, start = "", 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            lang = None if lang is not None else fence.group(2)
            continue
        if lang not in SHELL_BLOCKS:
            continue
        if not pending:
            start = n
            line = re.sub(r"^\s*\$\s+", "", line) if lang == "console" else line
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        words = shlex.split(pending + line, comments=True)
        pending = ""
        if words and words[0] == "graphmem":
            found.append(Shown(path, start, tuple(words[1:])))
    return found


COMMANDS = [c for page in PAGES for c in shown_commands(page)]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_readme_is_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail to docs/"


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_relative_links_resolve(page):
    broken = []
    for n, target in relative_links(page):
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(f"line {n}: {target} (no file {dest})")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"line {n}: {target} (no heading #{anchor} in {_name(dest)})")
    assert not broken, f"{_name(page)}: " + "; ".join(broken)


def test_readme_links_every_docs_page():
    linked = {(README.parent / t.partition("#")[0]).resolve() for _, t in relative_links(README)}
    assert [_name(d) for d in DOCS if d.resolve() not in linked] == []


def test_commands_were_found():
    # The check below must not pass by finding nothing: the README alone shows several.
    assert len([c for c in COMMANDS if c.page == README]) >= 4
    assert {c.argv[0] for c in COMMANDS if c.argv} >= {"build", "cypher", "recall", "eval-qa", "play"}


@pytest.mark.parametrize("shown", COMMANDS, ids=str)
def test_shown_command_parses(shown, capsys):
    try:
        build_parser().parse_args(list(shown.argv))
    except SystemExit:
        error = (capsys.readouterr().err.strip().splitlines() or ["(no message)"])[-1]
        pytest.fail(f"{shown}: `graphmem {shlex.join(shown.argv)}` does not parse: {error}")


def _readme_table() -> dict[str, list[str]]:
    """Command -> the options its row in the README's command table names."""
    rows = {}
    for _, line in _lines_outside_code(README):
        m = re.match(r"^\|\s*`graphmem ([a-z-]+)([^`]*)`\s*\|", line)
        if m:
            rows[m.group(1)] = re.findall(r"--[a-z][a-z-]*", m.group(2))
    return rows


def test_command_table_lists_every_command_with_real_options():
    commands = _subparsers(build_parser())
    table = _readme_table()
    assert sorted(table) == sorted(commands), "the README's command table and the parser differ"
    unknown = [f"{cmd} {opt}" for cmd, options in table.items() for opt in options
               if opt not in commands[cmd]._option_string_actions]
    assert unknown == [], f"options the README's table names but the commands lack: {unknown}"


# --- running the cheap commands ---------------------------------------------------------------
# Offline and local: no LLM (ask only with --no-answer), no graph server, nothing that serves.
CHEAP = {"extract", "build", "add", "recall", "cypher", "view", "ask"}
CORPUS = [  # written where the docs' examples/sample_corpus.json is expected
    {"title": "Marie Curie", "text": "Marie Curie was born in Warsaw. Curie worked in Paris."},
    {"title": "Warsaw", "text": "Warsaw is the capital of Poland."},
    {"title": "Eiffel Tower", "text": "The Eiffel Tower is located in Paris. Paris is the capital of France."},
]

CHAT = [  # written where docs/conversation.md's chat.jsonl is expected
    {"session": "1", "time": "2023-05-08T13:56", "speaker": "Caroline", "text": "I went to a support group yesterday."},
    {"session": "1", "time": "2023-05-08T13:56", "speaker": "Melanie", "text": "That's great!"},
]


def _cheap(argv: tuple[str, ...]) -> bool:
    if not argv or argv[0] not in CHEAP or "--store" in argv or "--llm" in argv:
        return False
    if "--extractor" in argv and argv[argv.index("--extractor") + 1] != "offline":
        return False
    return argv[0] != "ask" or "--no-answer" in argv


@pytest.mark.slow
def test_cheap_commands_run(tmp_path, monkeypatch, capsys):
    """The cheap commands of every page, in page order, in one folder holding a 3-passage
    examples/sample_corpus.json, the documents of examples/notes and a 2-turn chat.jsonl: each
    must exit 0, and the README's first session must say what the corpus says."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "sample_corpus.json").write_text(json.dumps(CORPUS), encoding="utf-8")
    shutil.copytree(ROOT / "examples" / "notes", tmp_path / "examples" / "notes")  # the documents' examples
    (tmp_path / "chat.jsonl").write_text("\n".join(json.dumps(turn) for turn in CHAT), encoding="utf-8")
    outputs: dict[Shown, str] = {}
    for shown in (c for c in COMMANDS if _cheap(c.argv)):
        code = main(list(shown.argv))
        out, err = capsys.readouterr()
        assert code == 0, f"{shown}: `graphmem {shlex.join(shown.argv)}` exited {code}: {err.strip()}"
        outputs[shown] = out
    ran = {s.argv[0] for s in outputs if s.page == README}
    assert ran >= {"extract", "build", "recall", "cypher", "view"}, f"README commands run: {ran}"

    def readme_output(command: str) -> str:
        return next(out for s, out in outputs.items() if s.page == README and s.argv[0] == command)

    assert json.loads(readme_output("extract")), "the README's extract example extracts nothing"
    assert json.loads(readme_output("build"))["passages"] == len(CORPUS)
    assert "warsaw" in readme_output("cypher").lower()
    assert "warsaw" in readme_output("recall").lower()
    assert (tmp_path / "out" / "sample_graph.html").stat().st_size > 0
