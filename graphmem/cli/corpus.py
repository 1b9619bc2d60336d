"""Corpus graph commands: build (a new graph), add (passages to a graph), forget (passages).

All three write through the corpus graph (``graphmem.rag.graph.CorpusGraph``), the one write path
with the documents profile, so a graph from any of them answers ``ask``, ``recall``, ``eval-qa``
and ``cypher`` alike.
"""
from __future__ import annotations

import time
from pathlib import Path

from .common import (NON_NEGATIVE, POSITIVE, UserError, number, add_extractor_options, add_graph_options, add_namespace_option,
                     add_server_options, check_output_file, open_extractor, open_graph_store, open_store_arg,
                     print_json)
from .progress import add_quiet_option, progress_bar

SAVE_EVERY = 256  # passages between checkpoints of a long build


def register(sub) -> None:
    from graphmem.embedders import EMBEDDERS

    p = sub.add_parser("build", help="build a graph from a document corpus",
                       description="Build a graph from CORPUS: a JSON list of {title, text}, a JSON dict "
                                   "title -> sentences, a JSON list of strings, a JSONL file of {text} "
                                   "objects, or documents: a .txt, .md, .html or .pdf file or a folder of "
                                   "them (read recursively), cut into chunks along their headings and "
                                   "paragraphs.")
    p.add_argument("corpus", metavar="CORPUS")
    p.add_argument("--out", metavar="FILE", help="graph file to write (embedded store)")
    p.add_argument("--store", metavar="URI", help="write to a graph server (bolt://... or falkor://...) instead of --out")
    add_namespace_option(p)
    add_server_options(p)
    existing = p.add_mutually_exclusive_group()
    existing.add_argument("--append", action="store_true",
                          help="add the corpus to the graph already in --out / --store")
    existing.add_argument("--force", action="store_true",
                          help="replace the graph in --out (the old file stays until the new one is saved)")
    p.add_argument("--no-passage-embeddings", action="store_true",
                   help="skip embedding whole passages (faster; disables passage similarity)")
    p.add_argument("--embedder", choices=list(EMBEDDERS),
                   help="embedder of a new graph (default all-MiniLM-L6-v2); an existing graph keeps its own")
    _add_write_options(p)
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("add", help="add a corpus's passages (or a chat's turns) to a graph (no rebuild)",
                       description="Add the passages of CORPUS (any form 'build' reads) that the graph "
                                   "does not hold yet. Of each document read, the chunks the graph holds "
                                   "and the document no longer gives (its text changed) are forgotten, and "
                                   "the chunks it still gives keep their facts (their position is brought "
                                   "up to date); the graph's other passages are not touched. With "
                                   "--chat, add a conversation's turns to a conversation memory "
                                   "(created if the graph file does not exist).")
    p.add_argument("corpus", metavar="CORPUS", nargs="?")
    p.add_argument("--chat", metavar="FILE",
                   help='a chat as JSONL, one {"session", "time", "speaker", "text"} object per line '
                        '("id" optional): its new turns join the graph\'s conversation memory')
    add_graph_options(p)
    _add_write_options(p)
    p.set_defaults(handler=cmd_add)

    p = sub.add_parser("forget", help="remove passages and exactly what only they supported",
                       description="Each SOURCE is a passage id (as 'ask' and 'cypher' show them), a "
                                   "title (every passage with that title) or a document's path inside "
                                   "the corpus folder (every chunk of it). Facts other passages also "
                                   "state stay, with those passages as their sources; facts a SOURCE "
                                   "retired become current again, unless a current fact rules them out.")
    p.add_argument("sources", metavar="SOURCE", nargs="+")
    add_graph_options(p)
    p.set_defaults(handler=cmd_forget)


def _add_write_options(p) -> None:
    _add_document_options(p)
    p.add_argument("--batch-size", type=POSITIVE,
                   help="passages per extraction/embedding batch (default 512: larger batches encode faster)")
    p.add_argument("--limit", type=POSITIVE, help="only the first N passages")
    p.add_argument("--workers", type=POSITIVE, default=4,
                   help="extraction requests in flight at once with --extractor llm (default 4)")
    p.add_argument("--trust", type=number(float, min=0, max=1), metavar="X",
                   help="how far the passages added are trusted, in [0, 1] (default 1): retrieval weighs "
                        "a passage, and facts only it states, by its trust (an unvetted upload: 0.3, say)")
    add_extractor_options(p)
    add_quiet_option(p)


def _add_document_options(p) -> None:
    from graphmem.corpus import CHUNKS

    g = p.add_argument_group("documents (a .txt, .md, .html or .pdf file, or a folder of them)")
    g.add_argument("--chunk-min", type=NON_NEGATIVE, default=CHUNKS.min_chars, metavar="CHARS",
                   help=f"a chunk's least size in characters, where its section allows (default {CHUNKS.min_chars})")
    g.add_argument("--chunk-max", type=POSITIVE, default=CHUNKS.max_chars, metavar="CHARS",
                   help=f"a chunk's greatest size in characters (default {CHUNKS.max_chars})")
    g.add_argument("--chunk-overlap", type=NON_NEGATIVE, default=CHUNKS.overlap, metavar="CHARS",
                   help="repeat the last whole sentences of a chunk, up to this many characters, at the start "
                        "of the next (default 0)")
    g.add_argument("--no-chunking", action="store_true", help="one passage per document, its whole text")
    g.add_argument("--root", metavar="FOLDER",
                   help="the folder that documents' paths (their titles) are relative to; default: CORPUS "
                        "itself when it is a folder, else the file's folder. To update one file of a folder's "
                        "graph: add FOLDER/sub/file.md --root FOLDER")


def _chunking(args):
    from graphmem.documents import ChunkSizes

    return None if args.no_chunking else ChunkSizes(args.chunk_min, args.chunk_max, args.chunk_overlap)


def _read(args):
    """The corpus as read, and the passages to add (the first ``--limit``)."""
    from graphmem.corpus import read_corpus
    from graphmem.trust import with_trust

    corpus = read_corpus(args.corpus, _chunking(args), args.root)
    if args.trust is not None:  # the corpus too: refreshing its documents' meta keeps the trust
        corpus = corpus._replace(passages=[p._replace(meta=with_trust(p.meta, args.trust))
                                           for p in corpus.passages])
    return corpus, corpus.passages[: args.limit] if args.limit else corpus.passages


def _write(args, store, corpus, passages, graph_file: str | None, embed_passages: bool = True) -> dict:
    """Add ``passages`` (of ``corpus``, read from ``args.corpus``) to the corpus graph in ``store``
    (closed afterwards), which is ``graph_file`` or on a server, and bring the documents read up to
    date in it; a summary for JSON."""
    from graphmem.corpus import refuse_former_ids
    from graphmem.embedders import embedder_named
    from graphmem.ingest import BATCH_PASSAGES
    from graphmem.profiles import DOCUMENTS
    from graphmem.rag.graph import CorpusGraph

    try:
        embedder = embedder_named(args.embedder) if getattr(args, "embedder", None) else None
        graph = CorpusGraph(store, embedder=embedder, extractor=open_extractor(args, DOCUMENTS),
                            extract_workers=args.workers, embed_passages=embed_passages)
    except BaseException:
        store.close()
        raise
    with graph:
        held = len(graph)
        if held:
            refuse_former_ids(args.corpus, store, graph_file, _chunking(args))
        start = time.perf_counter()
        with progress_bar(args, total=len(passages), unit="passage", desc="adding passages") as bar:
            bar.update(sum(p.id in graph for p in passages))  # already in the graph: skipped
            added = graph.add(passages, batch_size=args.batch_size or BATCH_PASSAGES,
                              save_every=SAVE_EVERY, on_batch=_advance(bar))
        stale, meta_updated = graph.refresh_documents(corpus) if held else ([], 0)
        graph.save()
        seconds = time.perf_counter() - start
        counts = graph.store.counts()
        stats = graph.stats()
        in_graph = len(graph)
    return {"added": added, "skipped": len(passages) - added, "removed": len(stale),
            "meta_updated": meta_updated, "passages_in_graph": in_graph,
            "files_skipped": corpus.files_skipped, "files_failed": list(corpus.files_failed),
            "triples": counts["triples"], "entities": counts["entities"], "episodes": counts["episodes"],
            "dropped_triples": stats["dropped_triples"], "seconds": round(seconds, 3),
            "passages_per_second": round(added / seconds, 2) if seconds and added else None}


def _advance(bar):
    """An ``on_batch`` callback (passages done so far) that moves ``bar``."""
    done = [0]

    def advance(n: int) -> None:
        bar.update(n - done[0])
        done[0] = n
    return advance


def cmd_build(args) -> None:
    _check_build_target(args)
    corpus, passages = _read(args)
    store = _open_build_target(args)
    summary = _write(args, store, corpus, passages, args.out, embed_passages=not args.no_passage_embeddings)
    # "passages" and "seconds" are a stable interface: the corpus size and the whole build's time.
    print_json({"passages": len(passages), **summary, "graph": args.out or args.store})


def cmd_add(args) -> None:
    if args.chat:
        if args.trust is not None:
            raise UserError("--trust weighs a corpus's passages; a chat's turns take no trust")
        return _add_chat(args)
    if not args.corpus:
        raise UserError("give the CORPUS to add (or --chat FILE for a conversation's turns)")
    corpus, passages = _read(args)
    store = open_graph_store(args)  # a graph file must exist: adding never starts a graph silently
    print_json({**_write(args, store, corpus, passages, args.graph), "graph": args.graph or args.store})


def _add_chat(args) -> None:
    """A chat's new turns into a conversation memory (the dialogue profile), batched, with a bar."""
    from graphmem.dialogue import read_chat_jsonl, remember_turns
    from graphmem.memory import Memory
    from graphmem.profiles import DIALOGUE

    if args.corpus:
        raise UserError("give either CORPUS or --chat FILE, not both")
    turns = read_chat_jsonl(args.chat)
    turns = turns[: args.limit] if args.limit else turns
    store = open_graph_store(args, create=True)
    try:
        memory = Memory(store, profile=DIALOGUE, extractor=open_extractor(args, DIALOGUE),
                        extract_workers=args.workers)
    except BaseException:
        store.close()
        raise
    with memory:
        start = time.perf_counter()
        with progress_bar(args, total=len(turns), unit="turn", desc="adding turns") as bar:
            added = remember_turns(memory, turns, on_batch=_advance(bar))
            bar.update(len(turns) - added)  # already in the graph: skipped
        memory.save()
        seconds = time.perf_counter() - start
        counts = store.counts()
    print_json({"added": added, "skipped": len(turns) - added, "turns_in_graph": counts["episodes"],
                "triples": counts["triples"], "entities": counts["entities"], "seconds": round(seconds, 3),
                "turns_per_second": round(added / seconds, 2) if seconds and added else None,
                "graph": args.graph or args.store})


def _check_build_target(args) -> None:
    """Before any work: the graph to build must be writable and is never merged into silently (an
    existing graph needs --append or --force)."""
    if not args.out and not args.store:
        raise UserError("give --out FILE (or --store bolt://...) for the graph to build")
    if args.store and args.force:
        raise UserError("--force replaces a graph file; to add to a server's graph use --append")
    if not args.store:
        from graphmem.store.namespaces import namespace_file

        check_output_file(args.out, "--out")
        target = namespace_file(args.out, args.namespace)
        if target.exists() and not (args.append or args.force):
            where = "" if target == Path(args.out) else f" (namespace {args.namespace!r}: {target})"
            raise UserError(f"--out {args.out} already exists{where}: --append to add the corpus to its graph, "
                            f"--force to replace it")


def _open_build_target(args):
    target = args.store or args.out
    store = open_store_arg(args, target, create=True, replace=args.force)
    counts = store.counts()  # checked again under the lock: another build may have finished meanwhile
    if not (args.append or args.force) and (counts["triples"] or counts["episodes"]):
        store.close()
        raise UserError(f"{target} already holds a graph ({counts['triples']} triples): --append to add "
                        f"the corpus to it{'' if args.store else ', --force to replace it'}")
    return store


def cmd_forget(args) -> None:
    from graphmem.memory import Memory

    store = open_graph_store(args)
    try:
        ids = _source_ids(store, args.sources)
        memory = Memory(store)
    except BaseException:
        store.close()
        raise
    with memory:
        done = memory.forget_report(ids)
        counts = store.counts()
    print_json({"forgotten": ids, "passages_forgotten": len(ids), "triples_deleted": len(done.deleted), "triples_restored": len(done.restored),
                "triples": counts["triples"],
                "entities": counts["entities"], "episodes": counts["episodes"],
                "graph": args.graph or args.store})


def _source_ids(store, sources: list[str]) -> list[str]:
    """Episode ids for SOURCE arguments (ids, titles, or documents' paths: every chunk of one);
    every one must name something."""
    from graphmem.corpus import DOCUMENT

    by_id = {e.id for e in store.get_episodes(sources)}
    names = [s for s in sources if s not in by_id]
    named: dict[str, list[str]] = {n: [] for n in names}
    if names:
        for episode in store.episodes():
            for name in {episode.title, episode.meta.get(DOCUMENT)}:
                if name in named:
                    named[name].append(episode.id)
    unknown = [n for n, found in named.items() if not found]
    if unknown:
        raise UserError(f"no passage with id, title or document {', '.join(map(repr, unknown))} in the graph "
                        f"(nothing was forgotten); 'graphmem cypher' or 'ask' show passage ids")
    ids = [s if s in by_id else i for s in sources for i in ([s] if s in by_id else named[s])]
    return list(dict.fromkeys(ids))
