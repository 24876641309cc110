"""One BLAS thread for a block of code: small, memory-bound products gain nothing from threads, and on a busy
machine threaded BLAS stalls (a `[20k, 9] @ [9, 27]` product: 0.4 ms on one thread, 8 ms threaded on a loaded
2-core machine)."""

from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()  # found once: scanning the loaded libraries costs ~10 ms a call


def one_blas_thread():
    """A context with one BLAS thread (entering it costs ~20 us)."""
    return _blas_controller().limit(limits=1, user_api="blas")
