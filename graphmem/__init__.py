"""graphmem: a knowledge-graph memory for LLM agents and a GraphRAG engine."""
from .model import Episode, Subgraph, Triple

__all__ = ["Episode", "Memory", "Subgraph", "Triple"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Memory pulls in numpy/networkx machinery; import it lazily so `graphmem --help` stays fast.
    if name == "Memory":
        from .memory import Memory

        return Memory
    raise AttributeError(name)
