"""The root of every error graphmem raises on purpose.

A ``GraphmemError`` means "the input, the setting or the environment is wrong, and the message says
what to do": the CLI prints it as one line and exits with code 2. Anything else that escapes is a
bug. Subclasses keep their historical built-in base too (ValueError, RuntimeError), so callers that
catch those keep working.
"""
from __future__ import annotations


class GraphmemError(Exception):
    """An error the user can act on; its message says what to do."""


class ConfigError(GraphmemError, ValueError):
    """A setting that is not valid: out of its range (a negative retrieval width, a damping outside
    (0, 1)...) or an unknown name (an agent, an extractor)."""
