"""The asynchronous inclusive scan of P2300R10 section 1.3.2, with ``bulk``/``then``/
``bulk`` exactly as the paper writes it, on any scheduler.

The paper's C++ (numbers are its annotations)::

    sender auto async_inclusive_scan(scheduler auto sch, std::span<const double> input,
                                     std::span<double> output, double init,
                                     std::size_t tile_count) {
      std::size_t const tile_size = (input.size() + tile_count - 1) / tile_count;
      std::vector<double> partials(tile_count + 1);                          // 4
      partials[0] = init;
      return just(std::move(partials))                                       // 5
           | continues_on(sch)
           | bulk(tile_count, [=](std::size_t i, std::vector<double>& partials) {  // 6, 7
               auto start = i * tile_size;                                   // 8
               auto end   = std::min(input.size(), (i + 1) * tile_size);
               partials[i + 1] = *--std::inclusive_scan(begin(input) + start,  // 9
                                                        begin(input) + end,
                                                        begin(output) + start);
             })
           | then([](std::vector<double>&& partials) {                        // 11
               std::inclusive_scan(begin(partials), end(partials), begin(partials));  // 12
               return std::move(partials);                                    // 13
             })
           | bulk(tile_count, [=](std::size_t i, std::vector<double>& partials) {  // 14
               auto start = i * tile_size;
               auto end   = std::min(input.size(), (i + 1) * tile_size);
               std::for_each(begin(output) + start, begin(output) + end,
                             [&](double& e) { e = partials[i] + e; });
             })
           | then([=](std::vector<double>&& partials) { return output; });   // 15
    }

The C++ lambdas capture the spans ``input`` and ``output`` (pointers). A function that
Numba compiles for the GPU can capture numbers only, so here the spans travel with
``partials`` as the one value of the chain, the tuple ``(input, output, partials)``;
``tile_size`` is computed from them. The steps are otherwise line for line the paper's,
and the same functions run interpreted (a thread pool), compiled in parallel
(:func:`~senderlab.gpu.numba_parallel_scheduler`) and on the GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..algorithms.bulk import bulk, par
from ..algorithms.just import just
from ..algorithms.schedule_from import continues_on
from ..algorithms.then import then

__all__ = ["inclusive_scan", "fast_inclusive_scan"]


def scan_tile(i: int, bufs: tuple) -> None:
    """(7)-(9): scan tile ``i`` of the input into the output; its total to partials[i+1]."""
    input, output, partials = bufs
    tiles = partials.shape[0] - 1
    n = input.shape[0]
    tile_size = (n + tiles - 1) // tiles
    start = i * tile_size  # (8)
    end = min(n, (i + 1) * tile_size)
    if start < end:  # (9)
        acc = input[start]
        output[start] = acc
        for k in range(start + 1, end):
            acc += input[k]
            output[k] = acc
        partials[i + 1] = acc
    else:
        partials[i + 1] = 0


def scan_partials(bufs: tuple) -> tuple:
    """(11)-(13): the inclusive scan of the partials, in place; hands them on."""
    input, output, partials = bufs
    for k in range(1, partials.shape[0]):
        partials[k] += partials[k - 1]
    return bufs


def add_partials(i: int, bufs: tuple) -> None:
    """(14): add the sum of the tiles before tile ``i`` (and ``init``) to tile ``i``."""
    input, output, partials = bufs
    tiles = partials.shape[0] - 1
    n = input.shape[0]
    tile_size = (n + tiles - 1) // tiles
    start = i * tile_size
    end = min(n, (i + 1) * tile_size)
    p = partials[i]
    for k in range(start, end):
        output[k] += p


def the_output(bufs: tuple) -> Any:
    """(15): the result is the output span."""
    return bufs[1]


def _partials(input, output, init, tile_count, where):
    if tile_count < 1:
        raise ValueError(f"{where}: tile_count must be at least 1, got {tile_count}")
    if input.shape != output.shape or input.ndim != 1:
        raise ValueError(f"{where}: input and output must be 1-d of one shape, got {input.shape}, {output.shape}")
    partials = np.empty(tile_count + 1, dtype=output.dtype)
    partials[0] = init
    return partials


def inclusive_scan(sch: Any, input: Any, output: Any, init: Any = 0, tile_count: int = 8) -> Any:
    """The P2300R10 1.3.2 scan: a sender of ``output`` holding the inclusive scan of
    ``input`` plus ``init`` (see the module docstring). ``tile_count`` tiles are scanned
    in parallel (``bulk(par, ...)``), then their totals, then the tiles are offset."""
    partials = _partials(input, output, init, tile_count, "inclusive_scan")  # (4)
    return (
        just((input, output, partials))  # (5)
        | continues_on(sch)
        | bulk(par, tile_count, scan_tile)  # (6)-(10)
        | then(scan_partials)  # (11)-(13)
        | bulk(par, tile_count, add_partials)  # (14)
        | then(the_output)  # (15)
    )


def tile_sum(i: int, bufs: tuple) -> None:
    """Reduce-then-scan, pass 1: the total of tile ``i`` into partials[i+1], with four
    independent sums so that the additions do not wait on each other. The last tile's
    total is needed by no tile, so it is not computed."""
    input, output, partials = bufs
    tiles = partials.shape[0] - 1
    if i + 1 == tiles:
        partials[i + 1] = 0
        return
    n = input.shape[0]
    tile_size = (n + tiles - 1) // tiles
    start = i * tile_size
    end = min(n, (i + 1) * tile_size)
    s0 = s1 = s2 = s3 = partials[0] - partials[0]
    k = start
    while k + 4 <= end:
        s0 += input[k]
        s1 += input[k + 1]
        s2 += input[k + 2]
        s3 += input[k + 3]
        k += 4
    while k < end:
        s0 += input[k]
        k += 1
    partials[i + 1] = (s0 + s1) + (s2 + s3)


def tile_scan(i: int, bufs: tuple) -> None:
    """Reduce-then-scan, pass 2: scan tile ``i`` starting from the sum before it."""
    input, output, partials = bufs
    tiles = partials.shape[0] - 1
    n = input.shape[0]
    tile_size = (n + tiles - 1) // tiles
    acc = partials[i]
    for k in range(i * tile_size, min(n, (i + 1) * tile_size)):
        acc += input[k]
        output[k] = acc


def fast_inclusive_scan(sch: Any, input: Any, output: Any, init: Any = 0) -> Any:
    """A faster scan with the same shape (``bulk | then | bulk | then``): *reduce then
    scan*. The first ``bulk`` only sums each tile (reading the input once, writing
    nothing), the ``then`` scans the tile sums, and the second ``bulk`` scans each tile
    from its offset into the output: the input is read twice and the output written
    once, where the paper's scan also reads and rewrites the output. The tile count
    suits ``sch``: one tile per Numba thread on :func:`numba_parallel_scheduler`, 1024
    on a real GPU, one per worker elsewhere. Sums are added in another order than
    ``numpy.cumsum``'s, so floating-point results agree to rounding."""
    from .numba_parallel import numba_parallel_scheduler
    from .stream import stream_scheduler

    if isinstance(sch, numba_parallel_scheduler):
        import numba

        tiles = numba.get_num_threads()
    elif isinstance(sch, stream_scheduler):
        tiles = 1024 if sch.ctx.backend.name == "cuda" else 8
    else:
        par_ = getattr(sch, "available_parallelism", None)
        tiles = par_() if par_ is not None else 4
    partials = _partials(input, output, init, max(1, min(tiles, input.shape[0] or 1)), "fast_inclusive_scan")
    return (
        just((input, output, partials))
        | continues_on(sch)
        | bulk(par, partials.shape[0] - 1, tile_sum)
        | then(scan_partials)
        | bulk(par, partials.shape[0] - 1, tile_scan)
        | then(the_output)
    )
