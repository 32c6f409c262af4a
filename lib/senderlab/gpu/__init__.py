"""GPU and Numba dispatch of ``bulk`` and ``then`` through domains (stdexec's nvexec;
P2300 sender algorithm customization, [exec.domain.default], [exec.snd.transform]).

``import senderlab as ex`` does not import this package; ``ex.gpu`` loads it (and Numba)
on first use. What it offers:

* :func:`stream_context` and its ``get_scheduler()``: ``schedule(gpu) | bulk(n, f)``
  and ``just(x, y) | continues_on(gpu) | bulk(n, f)`` compile ``f`` into a CUDA kernel
  and launch it on a stream (:mod:`senderlab.gpu.stream`); ``split`` of such work keeps
  its values on the device (:mod:`senderlab.gpu.stream.split`), and
  ``await ctx.async_done()`` waits for the context's work from asyncio;
* :func:`numba_parallel_scheduler`: a CPU scheduler whose domain compiles ``bulk`` into
  an ``njit(parallel=True)`` ``prange`` loop (:mod:`senderlab.gpu.numba_parallel`);
* :func:`inclusive_scan`: the P2300R10 section 1.3.2 asynchronous inclusive scan, on
  any scheduler, and :func:`fast_inclusive_scan` (:mod:`senderlab.gpu.scan`);
* :func:`get_backend`: ``"cuda"``, ``"simulator"`` (``NUMBA_ENABLE_CUDASIM=1``) or the
  fake ``"numpy"`` device (:mod:`senderlab.gpu.backend`).
"""

from __future__ import annotations

from .backend import get_backend, numpy_backend
from .numba_parallel import numba_parallel_domain, numba_parallel_scheduler
from .scan import fast_inclusive_scan, inclusive_scan
from .stream import stream_context, stream_domain, stream_scheduler

__all__ = [
    "fast_inclusive_scan",
    "get_backend",
    "inclusive_scan",
    "numba_parallel_domain",
    "numba_parallel_scheduler",
    "numpy_backend",
    "stream_context",
    "stream_domain",
    "stream_scheduler",
]
