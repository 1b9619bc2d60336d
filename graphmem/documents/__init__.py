"""Documents as people keep them (plain text, Markdown, HTML, PDF): read into sections of
paragraphs (``readers``), then cut along that structure into passages of a bounded size
(``chunking``). ``graphmem.corpus`` turns the chunks into passages with ids and metadata."""
from .chunking import Chunk, ChunkSizes, chunk_sections
from .readers import DOCUMENT_SUFFIXES, DocumentText, UnreadableDocument, read_document
from .sections import Section

__all__ = ["Chunk", "ChunkSizes", "chunk_sections", "DOCUMENT_SUFFIXES", "DocumentText",
           "UnreadableDocument", "read_document", "Section"]
