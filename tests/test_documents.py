"""Documents read along their structure (Markdown, HTML, PDF, plain text) and cut into chunks of a
bounded size that keep sections, paragraphs and sentences together; the corpus reader's folders,
single files and JSONL, with ids that stay put when a document changes elsewhere."""
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from graphmem.corpus import CorpusError, former_ids, load_corpus, read_corpus
from graphmem.documents import ChunkSizes, Section, chunk_sections
from graphmem.documents.chunking import ChunkingError
from graphmem.documents.html_reader import read_html
from graphmem.documents.markdown_reader import read_markdown
from graphmem.model import passage_id

MARKDOWN = """---
title: front matter, not text
---
Before any heading.

# Rivers #

The Danube flows
through Ulm. #rivers

Towns
=====

## Ulm
- Ulm is a city.
- Einstein was born there.

```sh
# a comment, not a heading
make all
```

Other towns
-----------
Basel.

---
After a thematic break.
"""


def test_markdown_headings_give_the_section_paths():
    assert [(s.path, s.paragraphs) for s in read_markdown(MARKDOWN)] == [
        ((), ["Before any heading."]),
        (("Rivers",), ["Rivers", "The Danube flows through Ulm. #rivers"]),
        (("Towns",), ["Towns"]),
        (("Towns", "Ulm"), ["Ulm", "- Ulm is a city.", "- Einstein was born there.",
                            "# a comment, not a heading\nmake all"]),
        (("Towns", "Other towns"), ["Other towns", "Basel.", "After a thematic break."]),
    ]


PAGE = """<!doctype html><html><head><title>Warsaw &amp; Poland</title><style>p {color: red}</style>
<script>var heading = "<h1>not read</h1>";</script></head><body>
<nav><a href="/">Home</a><h2>Menu</h2></nav>
<p>Intro line<br>second line</p>
<h1>Warsaw</h1><div>Warsaw is the capital
of Poland.</div>
<h2>People</h2><ul><li>Marie Curie was born in Warsaw.</li><li>Chopin grew up there.</li></ul>
<table><tr><td>Population</td><td>1.8 million</td></tr></table>
<pre>line one
  line two</pre>
<h1>Krakow</h1><p>Krakow lies on the Vistula.
</body></html>"""


def test_html_headings_blocks_and_title():
    title, sections = read_html(PAGE)
    assert title == "Warsaw & Poland"
    assert [(s.path, s.paragraphs) for s in sections] == [
        ((), ["Intro line", "second line"]),
        (("Warsaw",), ["Warsaw", "Warsaw is the capital of Poland."]),
        (("Warsaw", "People"), ["People", "Marie Curie was born in Warsaw.", "Chopin grew up there.",
                                "Population", "1.8 million", "line one\n  line two"]),
        (("Krakow",), ["Krakow", "Krakow lies on the Vistula."]),
    ]


def test_html_with_marked_main_content_gives_that_content_only():
    # A documentation page: help pop-up, theme menu and sidebar around the chapter.
    page = """<html><head><title>Ownership - The Book</title></head><body>
<div id="help"><h2>Keyboard shortcuts</h2><p>Press S to search</p></div>
<ul role="menu"><li>Light</li><li>Coal</li></ul>
<div class="page"><main><h1>Ownership</h1><p>Each value has an owner.</p>
<div><p>Values are dropped at the end of scope.</p></div>
<div role="navigation"><div><a href="next.html">Next chapter</a></div></div>
<p>Borrowing lends a value.</p></main></div>
<footer><p>Built with a generator</p></footer></body></html>"""
    title, sections = read_html(page)
    assert title == "Ownership - The Book"
    assert [(s.path, s.paragraphs) for s in sections] == [
        (("Ownership",), ["Ownership", "Each value has an owner.", "Values are dropped at the end of scope.",
                          "Borrowing lends a value."])]
    # role="main" on a div (Sphinx's pages), with divs nested in it: read to the div that closes it.
    sphinx = page.replace("<main>", '<div role="main">').replace("</main>", "</div>")
    assert read_html(sphinx) == (title, sections)
    # An empty main (filled by a script in a browser): the whole page is read.
    empty = read_html("<body><p>Chapter text</p><main></main></body>")[1]
    assert [s.paragraphs for s in empty] == [["Chapter text"]]


def _pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: each page's lines in Helvetica, one under the other."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    for n, lines in enumerate(pages):
        page, content = 4 + 2 * n, 5 + 2 * n
        shown = "".join("({}) Tj T* ".format(line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"))
                        for line in lines)
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown}ET".encode("latin-1")
        objects[content] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        objects[page] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                         b"/Resources << /Font << /F1 3 0 R >> >> >>" % content)
        kids.append(b"%d 0 R" % page)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number in sorted(objects):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_gives_its_pages_text(tmp_path):
    path = tmp_path / "ulm.pdf"
    path.write_bytes(_pdf([["Ulm is a city on the Danube.", "Einstein was born in Ulm."], ["Basel lies on the Rhine."]]))
    [passage] = load_corpus(path)
    assert (passage.title, passage.meta) == ("ulm", {"document": "ulm.pdf", "section": "", "position": "0"})
    assert passage.text == "Ulm is a city on the Danube. Einstein was born in Ulm.\n\nBasel lies on the Rhine."


def test_a_damaged_pdf_fails_alone_and_is_left_out_of_a_folder(tmp_path, caplog):
    folder = tmp_path / "docs"
    folder.mkdir()
    broken = folder / "broken.pdf"
    broken.write_bytes(_pdf([["Ulm is a city."]])[:60])
    (folder / "ok.txt").write_text("Ulm lies on the Danube.")
    with pytest.raises(CorpusError, match=r"broken\.pdf: not a readable PDF"):
        read_corpus(broken)
    corpus = read_corpus(folder)
    assert corpus.files_failed == ("broken.pdf",) and corpus.documents == ["ok.txt"]
    assert [p.title for p in corpus.passages] == ["ok"]
    assert "broken.pdf" in caplog.text


def test_a_folder_is_read_recursively_in_path_order(tmp_path):
    root = tmp_path / "notes"
    (root / "b" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "b" / "deep" / "z.md").write_text("# Zed\n\nZed is a letter.")
    (root / "a.TXT").write_text("Alpha.\n")
    (root / "b" / "page.htm").write_text("<title>A page</title><p>Text.</p>")
    (root / "table.csv").write_text("x,y")
    (root / ".draft.md").write_text("hidden")
    (root / ".git" / "HEAD.md").write_text("hidden")
    corpus = read_corpus(root)
    assert corpus.documents == ["a.TXT", "b/deep/z.md", "b/page.htm"]
    assert (corpus.files_skipped, corpus.files_failed) == (1, ())
    assert [(p.title, p.text, p.meta) for p in corpus.passages] == [
        ("a", "Alpha.", {"document": "a.TXT", "section": "", "position": "0"}),
        ("b/deep/z", "Zed\n\nZed is a letter.", {"document": "b/deep/z.md", "section": "Zed", "position": "0"}),
        ("b/page", "Text.", {"document": "b/page.htm", "document_title": "A page", "section": "", "position": "0"}),
    ]
    # One file read alone is named as in its folder given the folder as root.
    assert read_corpus(root / "b" / "deep" / "z.md", root=root).passages == corpus.passages[1:2]
    assert load_corpus(root / "b" / "deep" / "z.md")[0].title == "z"
    with pytest.raises(CorpusError, match="not inside the root folder"):
        read_corpus(root / "a.TXT", root=root / "b")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "data.csv").write_text("x")
    with pytest.raises(CorpusError, match=r"holds no \.txt, \.md"):
        read_corpus(tmp_path / "empty")


def test_without_chunking_a_txt_file_is_one_passage_with_the_id_it_always_had(tmp_path):
    text = "Ulm lies on the Danube.\n\nEinstein was born in Ulm.\n"
    (tmp_path / "ulm.txt").write_text(text)
    [whole] = load_corpus(tmp_path, chunking=None)
    assert (whole.id, whole.text) == (passage_id("ulm", text), text)
    [chunk] = load_corpus(tmp_path)
    assert chunk.text == "Ulm lies on the Danube.\n\nEinstein was born in Ulm."
    # A graph of the whole files is refused a chunked add (see refuse_former_ids), not one without.
    assert former_ids(tmp_path) == {whole.id} and former_ids(tmp_path, None) == set()


def test_a_text_repeated_in_a_document_gets_an_id_per_copy_that_stays_put(tmp_path):
    notice = "All rights reserved by the river authority of the Danube basin."
    path = tmp_path / "rivers.txt"

    def chunks(*first: str):
        path.write_text("\n\n".join([*first, "Ulm lies on the Danube.", notice, "Vienna lies on it too.", notice]))
        return {p.id: p.meta["position"] for p in load_corpus(path, ChunkSizes(0, 70))}

    before = chunks()
    assert len(before) == 4 and passage_id("rivers", notice) in before and passage_id("rivers", notice, 2) in before
    after = chunks("Basel lies on the Rhine, west of all the towns on the Danube.")
    assert len(after) == 5 and {pid: str(int(n) + 1) for pid, n in before.items()}.items() <= after.items()


def test_jsonl_lines_are_passages_with_their_meta(tmp_path):
    path = tmp_path / "c.jsonl"
    lines = [{"title": "Ulm", "text": "Ulm lies on the Danube.", "document": "cities.md", "section": "Germany"},
             {"text": "Basel lies on the Rhine.", "id": "basel-1", "document": "cities.md"},
             {"title": "Rivers", "text": ["The Danube is long.", " It flows east."], "section": "Europe"}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    corpus = read_corpus(path)
    assert [(p.id, p.title, p.text, p.meta) for p in corpus.passages] == [
        (passage_id("Ulm", "Ulm lies on the Danube."), "Ulm", "Ulm lies on the Danube.",
         {"document": "cities.md", "section": "Germany", "position": "0"}),
        ("basel-1", "", "Basel lies on the Rhine.", {"document": "cities.md", "section": "", "position": "1"}),
        (passage_id("Rivers", "The Danube is long. It flows east."), "Rivers", "The Danube is long. It flows east.",
         {"section": "Europe"}),
    ]
    assert corpus.documents == ["cities.md"] and former_ids(path) == set()
    for text, error in [('{"text": "ok"}\n{"title": "x"}', r"c\.jsonl, line 2: expected an object with 'text'"),
                        ('{"text": "ok", "document": 3}', "'document' must be a string, not int"),
                        ("{oops", r"line 1: not JSON")]:
        path.write_text(text)
        with pytest.raises(CorpusError, match=error):
            read_corpus(path)


# --- chunking ------------------------------------------------------------------------------------
WORDS = "the river town bridge flows north through old market where boats were built in summer".split()


def _paragraphs(n: int, seed: int, sentences: tuple[int, int] = (2, 6)) -> list[str]:
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 18))).capitalize() + "."
    return [" ".join(sentence() for _ in range(rng.randint(*sentences))) for _ in range(n)]


def _letters(texts) -> str:
    return "".join("".join(texts).split())


def test_chunks_stay_within_the_sizes_and_keep_every_sentence_once():
    paragraphs = ["Book", *_paragraphs(40, seed=1)]
    chunks = chunk_sections([Section(("Book",), paragraphs)], ChunkSizes(400, 1200))
    assert len(chunks) > 5
    assert all(400 <= len(c.text) <= 1200 for c in chunks), [len(c.text) for c in chunks]
    assert _letters(c.text for c in chunks) == _letters(paragraphs)
    # Paragraphs of at most ~600 characters fit whole: chunks break between them only.
    assert {piece for c in chunks for piece in c.text.split("\n\n")} <= set(paragraphs)


def test_a_chunk_keeps_to_its_section_unless_that_is_small():
    install = [p.replace("The", "Install") for p in _paragraphs(8, seed=2)]
    usage = [p.replace("The", "Usage") for p in _paragraphs(8, seed=3)]
    sections = [Section(("Guide",), ["Guide"]),  # a heading alone: joins its first subsection
                Section(("Guide", "Install"), ["Install", *install]),
                Section(("Guide", "Usage"), ["Usage", *usage]),
                Section(("Guide", "Usage", "Tips"), ["Tips", "Read the manual."]),
                Section(("Guide", "Usage", "Notes"), ["Notes", "None yet."]),  # a small sibling: joins Tips
                Section(("Appendix",), ["Appendix", "Nothing here."])]  # another parent: stays apart
    chunks = chunk_sections(sections, ChunkSizes(300, 700))
    assert not any("Install" in c.text and "Usage" in c.text for c in chunks)
    assert chunks[0].section == ("Guide",) and chunks[0].text.startswith("Guide\n\nInstall\n\n")
    assert [c.section for c in chunks[-2:]] == [("Guide", "Usage"), ("Appendix",)]
    assert chunks[-2].text == "Tips\n\nRead the manual.\n\nNotes\n\nNone yet."
    assert {c.section for c in chunks} == {("Guide",), ("Guide", "Install"), ("Guide", "Usage"), ("Appendix",)}


def test_a_sentence_longer_than_the_max_is_cut_between_words():
    sentence = " ".join(f"word{i}" for i in range(300)) + "."
    chunks = chunk_sections([Section((), [sentence])], ChunkSizes(100, 500))
    assert len(chunks) > 4 and all(len(c.text) <= 500 for c in chunks)
    assert " ".join(c.text for c in chunks) == sentence
    word = "x" * 1200
    assert [len(c.text) for c in chunk_sections([Section((), [word])], ChunkSizes(100, 500))] == [500, 500, 200]


def test_overlap_repeats_the_last_whole_sentences_of_the_chunk_before():
    sentences = [f"Sentence {i} tells of river number {i}." for i in range(60)]
    chunks = chunk_sections([Section((), [" ".join(sentences)])], ChunkSizes(200, 400, overlap=100))
    assert len(chunks) > 4 and all(len(c.text) <= 400 for c in chunks)
    rest = [chunks[0].text]
    for before, chunk in zip(chunks, chunks[1:]):
        lead = " ".join(s for s in sentences if s in chunk.text and s in before.text)
        assert lead and chunk.text.startswith(lead) and before.text.endswith(lead) and len(lead) <= 100
        rest.append(chunk.text[len(lead):])
    assert _letters(rest) == _letters(sentences)  # past the repeated lead, each sentence once


@pytest.mark.parametrize("sizes", [(500, 400, 0), (0, 400, 400), (0, 0, 0)])
def test_chunk_sizes_that_cannot_work_are_refused(sizes):
    with pytest.raises(ChunkingError):
        ChunkSizes(*sizes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(st.sampled_from(["A", "B"]), max_size=3),
                          st.lists(st.text(alphabet="ab A.!?\n", min_size=1, max_size=90), min_size=1, max_size=4)),
                min_size=1, max_size=5),
       st.integers(0, 60), st.integers(1, 80), st.integers(0, 40))
def test_any_document_chunks_within_the_max_and_loses_nothing(raw, least, most, overlap):
    sections = [Section(tuple(path), [p for p in paragraphs if p.strip()]) for path, paragraphs in raw]
    if overlap >= most:
        return
    sizes = ChunkSizes(min(least, most), most, overlap)
    chunks = chunk_sections(sections, sizes)
    assert all(0 < len(c.text) <= most for c in chunks)
    if not overlap:
        assert _letters(c.text for c in chunks) == _letters(p for s in sections for p in s.paragraphs)
