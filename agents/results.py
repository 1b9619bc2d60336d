"""The one writer of an evaluation's files: ``results.json`` (what other tools read) and
``results.md`` (the same as a markdown table), side by side in the output folder."""
from __future__ import annotations

import json
from pathlib import Path


def write_results(out: Path, data: dict, table: str) -> None:
    """Write ``data`` as ``out/results.json`` and ``table`` as ``out/results.md`` (``out`` made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out / "results.md").write_text(table + "\n", encoding="utf-8")
