"""The agents' and evaluations' commands, plugged into ``graphmem`` through the entry-point group
``graphmem.commands`` (see pyproject.toml)."""
from __future__ import annotations

from graphmem.cli.common import UserError


def require_games(command: str) -> None:
    """Text games are an optional extra: say how to get them instead of failing on an import."""
    try:
        import textworld  # noqa: F401
    except ImportError:
        raise UserError(f"{command} plays text games and needs TextWorld: pip install 'graphmem[games]'") from None
