"""Running a query's vector products on one BLAS thread."""
from __future__ import annotations

_controller = None


def one_blas_thread():
    """A context in which BLAS runs on one thread. A query's products are a matrix times one
    vector: one thread does them faster than two, and far faster on a busy machine, where the
    second thread waits for a core (10k rows x 384: 0.5 ms against 8 ms with two threads, measured
    while other work kept both cores busy; 12.8k facts: 4.8 ms against 11 ms)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
