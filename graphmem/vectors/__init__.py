"""Vectors: the append-only index, approximate search, growing matrices."""
