"""Reading a JSON file a user hands us (a corpus, questions, a task file, a graph file).

Every way such a file can be wrong (missing, a folder, not UTF-8, not JSON, nested past Python's
recursion limit) becomes one error of the caller's class naming the file. A UTF-8 byte-order mark is
accepted: editors on Windows write one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import GraphmemError


def read_json(path: str | os.PathLike, error: type[GraphmemError], what: str = "file"):
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {path} not found") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a folder, not a file") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    return parse_json(data, error, f"{what} {path}")


def parse_json(data: bytes | str, error: type[GraphmemError], what: str):
    """``data`` parsed as JSON, else ``error`` saying what is wrong with ``what``."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"{what} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}): "
                        f"save it as UTF-8") from None
    try:
        return json.loads(data.removeprefix("\ufeff"))
    except ValueError as exc:
        raise error(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise error(f"{what} nests JSON values too deeply to read") from None
