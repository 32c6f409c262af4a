"""The functions the cluster domain runs on Dask workers (P2300 sender algorithm
customization, [exec.snd.transform]; the work of [exec.then] and [exec.bulk]).

A chain's values live on the cluster as one Dask future of a *cluster value*: the flat
tuple ``(*values, (src, dirty))`` (flat, so that Dask serializes each array on its own,
without copying it into a pickle; :func:`pack`, :func:`unpack`). ``src[j]`` is the index
of the caller's (host) array that value ``j`` came from, or ``None``; ``dirty`` is the
set of those indices whose array a step may have written. When the chain leaves the
cluster, :func:`outgoing` sends back only the values the caller does not already hold
unchanged, so a ``bulk`` that writes ``y`` and only reads ``x`` gathers ``y``'s chunks
and never ``x``.

This module is imported by the workers by name (``senderlab.cluster.tasks``), so they
need senderlab installed; the user's functions travel with cloudpickle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

__all__ = ["SAME", "pack", "unpack", "run_then", "run_chunk", "apply_patches", "outgoing", "join"]

#: ``src`` of a cluster value: per value, the index of the caller's array it came from,
#: or ``None``.
Src = tuple[int | None, ...]
#: ``dirty`` of a cluster value: the indices of the caller's arrays a step may have written.
Dirty = frozenset[int]
#: A cluster value: the values (arbitrary user data), then ``(src, dirty)``.
ClusterValue = tuple[*tuple[Any, ...], tuple[Src, Dirty]]
#: What one chunk of a ``bulk`` returns (:func:`run_chunk`): ``(j, b, e, rows, ...)``, flat.
Rows = tuple[int | NDArray[Any], ...]

#: Marks, in what :func:`outgoing` returns, a value the caller already holds unchanged.
SAME = "senderlab.cluster.same"

#: Bytes of rows of the widest array per call of ``f`` while some array is watched: the
#: temporaries ``f`` makes for its rows stay under glibc's mmap threshold (128 KiB), so
#: they come from the heap. (Dask's worker processes set ``MALLOC_TRIM_THRESHOLD_``,
#: which keeps that threshold from growing: a 1 MiB temporary there is a fresh ``mmap``
#: and 256 page faults on every call, three times the cost of the saxpy itself.)
_CALL = 1 << 16
#: Bytes of rows of the widest array copied and compared at a time: small enough to stay
#: in the cache between the copy, the calls and the comparison.
_SCRATCH = 1 << 20


def pack(values: Iterable[Any], src: Src, dirty: Dirty) -> ClusterValue:
    """The cluster value of ``values`` with origins ``src`` and written origins ``dirty``."""
    return (*values, (src, dirty))


def unpack(cv: ClusterValue) -> tuple[tuple[Any, ...], Src, Dirty]:
    """``(values, src, dirty)`` of a cluster value."""
    src, dirty = cv[-1]
    return cv[:-1], src, dirty


def run_then(f: Callable[..., Any], cv: ClusterValue) -> ClusterValue:
    """``then(f)``: ``f(*values)``; ``None`` is no values (the void rule of [exec.then]).
    A returned argument keeps its origin and counts as written (``f`` may have changed
    it in place)."""
    values, src, dirty = unpack(cv)
    r = f(*values)
    out = () if r is None else (r,)
    by_id = {id(v): s for v, s in zip(values, src) if s is not None}
    osrc = tuple([by_id.get(id(v)) if isinstance(v, np.ndarray) else None for v in out])
    return pack(out, osrc, frozenset(s for s in osrc if s is not None))


def _same(before: np.ndarray, after: np.ndarray, buf: np.ndarray) -> bool:
    """Whether the rows are bit for bit the same: compared as int64 (uint8 where the
    size is not a multiple of 8; the uint8 comparison is 8x slower) ``buf.size`` at a
    time into ``buf``, stopping at the first part that differs."""
    if not (before.flags.c_contiguous and after.flags.c_contiguous) or before.dtype.hasobject:
        return bool(np.array_equal(before, after))
    b, a = before.reshape(-1).view(np.uint8), after.reshape(-1).view(np.uint8)
    if b.size % 8 == 0:
        b, a = b.view(np.int64), a.view(np.int64)
    step = buf.size
    for i in range(0, b.size, step):
        out = buf[: min(step, b.size - i)]
        np.not_equal(b[i : i + step], a[i : i + step], out=out)
        if out.any():
            return False
    return True


def run_chunk(f: Callable[..., object], chunked: bool, begin: int, end: int, cv: ClusterValue) -> Rows:
    """One chunk of a ``bulk``: ``f(i, *values)`` for ``i`` in ``[begin, end)``, or
    ``f(b, e, *values)`` for ``bulk_chunked`` over sub-ranges covering it.

    A call ``f(i)`` (``f(b, e)``) may write rows ``i`` (``[b, e)``) of the writable
    arrays; the chunk finds the arrays it wrote by watching them: it copies a *block* of
    about ``_SCRATCH`` bytes of their rows into a scratch buffer, runs the calls of those
    indices (``bulk_chunked``: ``_CALL`` bytes of rows per call), and compares. An array
    seen written is watched no more: its rows from that block to the end of the chunk
    are sent back without looking (the unchanged ones hold the caller's values anyway).
    Once no array is watched (all written, or none writable: NumPy's writeable flag,
    which travels with the array), the rest of the chunk is one call. So an array that
    is written costs one small block of comparison, and one that is only read a copy
    and a comparison in the cache. Returns ``(j, b, e, rows, ...)``: for each written
    array value ``j``, its rows ``[b, e)``. A write to rows of other indices is not
    returned."""
    values = cv[:-1]
    arrays = [(j, v) for j, v in enumerate(values)
              if isinstance(v, np.ndarray) and v.ndim and len(v) > begin and v.flags.writeable]
    if not arrays:
        _calls(f, chunked, begin, end, values)
        return ()
    row_bytes = max(max(v[:1].nbytes for _, v in arrays), 1)
    per_call = max(1, _CALL // row_bytes)
    per_block = max(1, _SCRATCH // row_bytes // per_call) * per_call
    since: list = [None] * len(arrays)  # per array: where the rows sent back begin
    scratch: list = [None] * len(arrays)
    buf = np.empty(max(1, _SCRATCH // 8), dtype=bool)
    # The first block is one call's rows: what it writes tells which arrays are written
    # before much is copied.
    b, size = begin, per_call
    while b < end:
        watched = [k for k, s in enumerate(since) if s is None]
        if not watched:
            _calls(f, chunked, b, end, values)
            break
        e = min(b + size, end)
        for k in watched:
            rows = arrays[k][1][b:e]
            if scratch[k] is None or len(scratch[k]) < len(rows):
                scratch[k] = np.empty((min(per_block, end - b),) + rows.shape[1:], rows.dtype)
            np.copyto(scratch[k][: len(rows)], rows)
        for c in range(b, e, per_call):
            _calls(f, chunked, c, min(c + per_call, e), values)
        for k in watched:
            rows = arrays[k][1][b:e]
            if not _same(scratch[k][: len(rows)], rows, buf):
                since[k] = b
        b, size = e, per_block
    out: list = []
    for (j, v), s in zip(arrays, since):
        if s is not None:
            out += (j, s, end, v[s:end])  # a view: only this chunk writes these rows
    return tuple(out)


def _calls(f: Callable[..., object], chunked: bool, b: int, e: int, values: Sequence[Any]) -> None:
    if chunked:
        f(b, e, *values)
    else:
        for i in range(b, e):
            f(i, *values)


def patches_of(rows: Rows) -> Iterator[tuple[int, int, int, NDArray[Any]]]:
    """The ``(j, b, e, rows)`` entries of what :func:`run_chunk` returned."""
    return cast("Iterator[tuple[int, int, int, NDArray[Any]]]", zip(rows[0::4], rows[1::4], rows[2::4], rows[3::4]))


def apply_patches(cv: ClusterValue, *patches: Rows) -> ClusterValue:
    """The values after a ``bulk``: the rows each chunk returned, written into them."""
    held, src, dirty = unpack(cv)
    values = list(held)
    written = set(dirty)
    for rows in patches:
        for j, b, e, part in patches_of(rows):
            v = values[j]
            if not v.flags.writeable:
                v = values[j] = v.copy()
            v[b:e] = part
            s = src[j]
            if s is not None:
                written.add(s)
    return pack(values, src, frozenset(written))


def outgoing(cv: ClusterValue) -> tuple[*tuple[Any, ...], Src]:
    """What goes back to the caller, ``(*values, src)``: :data:`SAME` for a caller's array
    no step wrote."""
    values, src, dirty = unpack(cv)
    return (*[SAME if s is not None and s not in dirty else v for v, s in zip(values, src)], src)


def join(offsets: Sequence[int], *cvs: ClusterValue) -> ClusterValue:
    """``when_all``: the children's values in order, their origins renumbered."""
    values: list[Any] = []
    src: list[int | None] = []
    dirty: set[int] = set()
    for off, (v, s, d) in zip(offsets, map(unpack, cvs)):
        values.extend(v)
        src.extend([None if x is None else x + off for x in s])
        dirty.update(x + off for x in d)
    return pack(values, tuple(src), frozenset(dirty))
