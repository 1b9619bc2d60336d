"""The names and layout constants of the binary graph file (``archive``), shared by its reader and
its writer (``archive_writer``)."""

FORMAT = "graphmem-archive"
VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"
ALIGN = 64
PAD_FIELD = 0x6770  # an extra-field id no ZIP tool assigns: padding that aligns the data after it
DATE = (1980, 1, 1, 0, 0, 0)
COLUMNS = ("id", "subject", "relation", "object", "valid_from", "valid_until", "has_until", "vector")
# Optional entry: per triple, the string of the source that retired it, or -1 (``Triple.retired_by``).
# Older readers pass it by, older files lack it: no version change either way.
RETIRED_BY = "triple_retired_by.npy"
