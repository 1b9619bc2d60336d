"""Read document corpora in the shapes people have them, as passages (id, title, text, meta).

The one corpus reader: ``build``, ``add`` and ``eval-qa`` (its ``corpus.json``) all read through
``read_corpus`` (``load_corpus``: its passages), so a corpus gives the same passage ids whichever
command reads it, and ``ask`` finds them in any graph those commands wrote.

Accepted: a JSON list of {"title", "text"} objects (text: a string, or a list of sentences), a JSON
dict title -> list of sentences (HotpotQA style; one string counts as one sentence), a JSON list of
strings, a JSONL file of {"text"} objects (with "title", "id", "document", "section" if wanted),
or documents: a .txt, .md, .html or .pdf file, or a folder of them (read recursively, in path
order; other files, and hidden ones, are left out). A text given as a string is kept as it is;
sentences are stripped and joined by one space (``join_sentences``). Identical passages (the same
id) are read once.

JSON and JSONL passages are taken as they are (they are chunks already). Documents are cut along
their structure (``graphmem.documents``) into chunks, each a passage whose title is the document's
path inside the folder without its extension (chunks of one document share that title, an entity of
the graph; it stays put when the text changes, so unchanged chunks keep their ids), and whose meta
says where it came from: "document" (the path with its extension), "section" (its headings joined
by " > ", "" when none), "position" (its number in the document, from 0), and "document_title" for
an HTML page with a <title>.
"""
from __future__ import annotations

import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Iterator, Mapping, NamedTuple

from .documents import DOCUMENT_SUFFIXES, Chunk, ChunkSizes, DocumentText, UnreadableDocument, chunk_sections, read_document
from .errors import GraphmemError
from .util.jsonfile import read_json
from .util.unicode import valid_unicode
from .model import passage_id

log = logging.getLogger(__name__)

CHUNKS = ChunkSizes()  # the default chunk sizes of documents
DOCUMENT = "document"  # passage meta: the document file a chunk came from, inside the corpus folder
SECTION = "section"  # passage meta: the headings above a chunk, joined by SECTION_SEPARATOR
POSITION = "position"  # passage meta: a chunk's number in its document, from 0
DOCUMENT_TITLE = "document_title"  # passage meta: the title an HTML page gives itself
SECTION_SEPARATOR = " > "


class CorpusError(GraphmemError, ValueError):
    """A corpus that cannot be read; the message names the file and the problem."""


class Passage(NamedTuple):
    id: str
    title: str
    text: str
    meta: Mapping[str, str] | None = None  # where a document's chunk came from (None: nothing said)


class Corpus(NamedTuple):
    """What a corpus read gave: its passages, the documents read (a changed document's chunks
    that the graph holds and the read did not give are its old text), the files of a folder left
    out for their kind, and the document files that could not be read (a warning says why)."""

    passages: list[Passage]
    documents: list[str]
    files_skipped: int = 0
    files_failed: tuple[str, ...] = ()


def join_sentences(sentences: list[str]) -> str:
    """HotpotQA sentences carry their leading space, 2Wiki's do not: normalise both to one space.

    The ids of eval-qa's cached graphs and of the QA splits' rankings hash texts joined this way."""
    return " ".join(s.strip() for s in sentences if s.strip())


class _Entry(NamedTuple):
    title: str
    text: str
    former_text: str  # what graphmem before this reader gave (sentences joined as they came)


def load_corpus(path: str | Path, chunking: ChunkSizes | None = CHUNKS,
                root: str | Path | None = None) -> list[Passage]:
    """The corpus's passages in file order, each once (``read_corpus``)."""
    return read_corpus(path, chunking, root).passages


def read_corpus(path: str | Path, chunking: ChunkSizes | None = CHUNKS, root: str | Path | None = None) -> Corpus:
    """The corpus at ``path``, its passages each once: a graph holds a passage once, and eval-qa's
    recall would be ambiguous with two copies. ``chunking``: the chunk sizes of documents (None:
    one passage per document, its whole text). ``root``: the folder that documents' paths (their
    titles and meta "document") are relative to; by default the corpus folder, or a single file's
    own folder."""
    path = Path(path)
    if _holds_documents(path):
        return _read_documents(path, chunking, Path(root) if root is not None else None)
    if path.suffix.lower() == ".jsonl":
        return _read_jsonl(path)
    passages: dict[str, Passage] = {}
    for e in _entries(path):
        title, text = valid_unicode(e.title), valid_unicode(e.text)
        pid = passage_id(title, text)
        passages.setdefault(pid, Passage(pid, title, text))
    return Corpus(list(passages.values()), [])


def _holds_documents(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in DOCUMENT_SUFFIXES


def former_ids(path: str | Path, chunking: ChunkSizes | None = CHUNKS) -> set[str]:
    """The ids that passages of the corpus at ``path`` had before ``build`` and ``add`` joined
    sentences as eval-qa does (they were joined by a space as they came, so HotpotQA's leading
    spaces doubled), for the passages whose id changed; for a folder read in chunks, those its
    .txt files had as one passage each, before documents were chunked."""
    path = Path(path)
    if _holds_documents(path):
        return _unchunked_ids(path, chunking) if path.is_dir() else set()
    if path.suffix.lower() == ".jsonl":  # read as it is since it was first read
        return set()
    entries = list(_entries(path))
    current = {passage_id(e.title, e.text) for e in entries}
    return {passage_id(e.title, e.former_text) for e in entries if e.former_text != e.text} - current


def refuse_former_ids(path: str | Path, store, graph_file: str | None, chunking: ChunkSizes | None = CHUNKS) -> None:
    """Refuse to add the corpus at ``path`` to a graph in ``store`` that holds its passages under
    their former ids: it would then hold those passages twice. Rebuilding gives the ids now."""
    former = former_ids(path, chunking)
    if not (former and store.get_episodes(sorted(former))):
        return
    if _holds_documents(Path(path)):
        raise CorpusError(f"the graph holds the .txt files of {path} whole, as an older graphmem read them: "
                          f"add them with --no-chunking to go on so, or rebuild the graph in chunks with "
                          f"'graphmem build {path} --out {graph_file or 'FILE'} --force'")
    raise CorpusError(f"the graph holds passages of {path} under the ids of an older graphmem (sentences "
                      f"are now joined as eval-qa joins them): rebuild it with "
                      f"'graphmem build {path} --out {graph_file or 'FILE'} --force'")


def _entries(path: Path) -> Iterator[_Entry]:
    if not path.exists():
        raise CorpusError(f"no corpus at {path}: {_GIVE}")
    doc = read_json(path, CorpusError, "corpus")
    if isinstance(doc, dict):
        for title, sentences in doc.items():
            if isinstance(sentences, str):  # one sentence: stripped like the others
                sentences = [sentences]
            yield _sentence_entry(str(title), sentences, f"{path}: entry {str(title)[:40]!r}")
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            if isinstance(item, str):
                yield _Entry("", item, item)
            elif isinstance(item, dict) and "text" in item:
                title, text = _title(item.get("title")), item["text"]
                yield _Entry(title, text, text) if isinstance(text, str) else \
                    _sentence_entry(title, text, f"{path}: item {i}")
            else:
                raise CorpusError(f"{path}: item {i} is neither a string nor an object with 'text'")
        return
    raise CorpusError(f"{path}: expected a JSON list or dict at the top level")


def _title(value) -> str:
    """A passage's title as given; a missing or null one is no title (not the word "None")."""
    return "" if value is None else str(value)


def _sentence_entry(title: str, sentences, where: str) -> _Entry:
    if isinstance(sentences, list) and all(isinstance(s, str) for s in sentences):
        return _Entry(title, join_sentences(sentences), " ".join(sentences))
    raise CorpusError(f"{where}: text must be a string or a list of strings, not {_shape(sentences)}")


def _shape(value) -> str:
    if isinstance(value, list):
        return "a list holding " + ", ".join(sorted({type(v).__name__ for v in value}))
    return type(value).__name__


_GIVE = "give a JSON or JSONL file, a .txt, .md, .html or .pdf file, or a folder of them"


# --- documents -----------------------------------------------------------------------------------
def _read_documents(path: Path, chunking: ChunkSizes | None, root: Path | None) -> Corpus:
    """A document file, or a folder's: a file that cannot be read fails a single-file corpus,
    and is left out of a folder's, with a warning (one damaged PDF should not stop a library)."""
    if not path.exists():
        raise CorpusError(f"no corpus at {path}: {_GIVE}")
    folder = path.is_dir()
    files, skipped = _document_files(path) if folder else ([path], 0)
    base = root if root is not None else (path if folder else path.parent)
    passages: dict[str, Passage] = {}
    documents: list[str] = []
    failed: list[str] = []
    for file in files:
        document = _relative(file, base)
        try:
            text = read_document(file)
        except UnreadableDocument as e:
            if not folder:
                raise CorpusError(f"{file}: {e}") from None
            log.warning("left out %s: %s", file, e)
            failed.append(document)
            continue
        documents.append(document)
        for passage in _document_passages(text, document, chunking):
            passages.setdefault(passage.id, passage)
    return Corpus(list(passages.values()), documents, skipped, tuple(failed))


def _document_files(folder: Path) -> tuple[list[Path], int]:
    """The folder's document files, recursively, in path order, and how many other files it
    holds; hidden files and folders (a name starting with a dot: .git) are not looked at."""
    found, skipped = [], 0
    for top, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in DOCUMENT_SUFFIXES:
                found.append(Path(top, name))
            else:
                skipped += 1
    if not found:
        raise CorpusError(f"{folder} holds no .txt, .md, .markdown, .html, .htm or .pdf files")
    return sorted(found, key=lambda f: f.relative_to(folder).as_posix()), skipped


def _relative(file: Path, root: Path) -> str:
    """``file``'s path inside ``root``, with forward slashes: the document's name in the graph."""
    try:
        relative = Path(os.path.abspath(file)).relative_to(os.path.abspath(root))
    except ValueError:
        raise CorpusError(f"{file} is not inside the root folder {root}") from None
    return valid_unicode(relative.as_posix())


def _document_passages(doc: DocumentText, document: str, chunking: ChunkSizes | None) -> Iterator[Passage]:
    title = document[: -len(Path(document).suffix)]
    if chunking is None:
        chunks = [Chunk(doc.whole, ())] if doc.whole.strip() else []
    else:
        chunks = chunk_sections(doc.sections, chunking)
    about = {DOCUMENT: document, **({DOCUMENT_TITLE: valid_unicode(doc.title)} if doc.title else {})}
    seen: Counter[str] = Counter()
    for position, chunk in enumerate(chunks):
        text = valid_unicode(chunk.text)
        seen[text] += 1
        meta = {**about, SECTION: valid_unicode(SECTION_SEPARATOR.join(chunk.section)), POSITION: str(position)}
        yield Passage(passage_id(title, text, seen[text]), title, text, meta)


def _unchunked_ids(folder: Path, chunking: ChunkSizes | None) -> set[str]:
    """The ids that the folder's own .txt files had as one passage each (title: the file name
    without its extension), which chunking them now does not give again."""
    if chunking is None:
        return set()
    whole = {}
    for file in sorted(folder.glob("*.txt")):
        try:
            text = read_document(file).whole
        except UnreadableDocument:  # the folder's read leaves it out, with a warning
            continue
        whole[passage_id(valid_unicode(file.stem), valid_unicode(text))] = file
    return {pid for pid, file in whole.items()
            if pid not in {p.id for p in _read_documents(file, chunking, folder).passages}}


# --- JSONL ---------------------------------------------------------------------------------------
def _read_jsonl(path: Path) -> Corpus:
    """One {"text"} object a line, with "title", "id", "document" and "section" if wanted: a line
    with a "document" gets the meta of a document's chunk, its position counted in file order."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise CorpusError(f"no corpus at {path}: {_GIVE}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(f"{path} cannot be read: {e}") from None
    passages: dict[str, Passage] = {}
    positions: Counter[str] = Counter()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            item = json.loads(line)
        except (ValueError, RecursionError) as e:  # nested past Python's stack: refused like bad JSON
            raise CorpusError(f"{where}: not JSON ({type(e).__name__}: {str(e)[:80]})") from None
        if not isinstance(item, dict) or "text" not in item:
            raise CorpusError(f"{where}: expected an object with 'text'")
        entry = _sentence_entry(_title(item.get("title")), item["text"], where) \
            if not isinstance(item["text"], str) else _Entry(_title(item.get("title")), item["text"], item["text"])
        title, text = valid_unicode(entry.title), valid_unicode(entry.text)
        pid, document, section = (_optional_string(item, key, where) for key in ("id", DOCUMENT, SECTION))
        meta: dict[str, str] = {SECTION: section} if section else {}
        if document:
            meta = {DOCUMENT: document, SECTION: section, POSITION: str(positions[document])}
            positions[document] += 1
        pid = pid or passage_id(title, text)
        passages.setdefault(pid, Passage(pid, title, text, meta or None))
    return Corpus(list(passages.values()), list(positions))


def _optional_string(item: dict, key: str, where: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CorpusError(f"{where}: {key!r} must be a string, not {_shape(value)}")
    return valid_unicode(value)
