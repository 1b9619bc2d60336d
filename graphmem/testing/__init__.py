"""Real servers for tests and benchmarks: an ArcadeDB Bolt server (``arcadedb``, needs the ``test``
extra) and an OpenAI-compatible chat server with scripted replies (``chat_server``).

They live in the package, not in ``tests/``, because the benchmark scripts start them too, and
scripts import the installed package only. The engine never imports this package.
"""
