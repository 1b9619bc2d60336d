"""What the CLI does with an exception nobody expected: a short message, the full trace in a file."""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback


def crash_dir() -> str:
    """GRAPHMEM_CRASH_DIR, else the system's temporary folder."""
    return os.environ.get("GRAPHMEM_CRASH_DIR") or tempfile.gettempdir()


def report_crash(command: str, exc: BaseException, *, verbose: bool = False) -> int:
    """Write the trace to a file, say where in one line (and print it with -v); returns exit code 1."""
    trace = "".join(traceback.format_exception(exc))
    where = _write_trace(command, trace)
    if verbose:
        sys.stderr.write(trace)
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    print(f"graphmem {command}: internal error ({summary}). This is a bug in graphmem; "
          f"the full trace is in {where} (or rerun with -v to print it).", file=sys.stderr)
    return 1


def _write_trace(command: str, trace: str) -> str:
    try:
        os.makedirs(crash_dir(), exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        fd, path = tempfile.mkstemp(prefix=f"graphmem-{command}-{stamp}-", suffix=".txt", dir=crash_dir())
        # Undecodable bytes in argv arrive as lone surrogates: the report must still be written.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(f"graphmem {' '.join(sys.argv[1:])}\n\n{trace}")
        return path
    except OSError as exc:
        return f"(nowhere: cannot write to {crash_dir()}: {exc.strerror})"
