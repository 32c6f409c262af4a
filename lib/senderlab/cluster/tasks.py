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

import numpy as np

__all__ = ["SAME", "pack", "unpack", "run_then", "run_chunk", "apply_patches", "outgoing", "join"]

#: Marks, in what :func:`outgoing` returns, a value the caller already holds unchanged.
SAME = "senderlab.cluster.same"

_BLOCK = 1 << 20  # elements compared at a time (an early difference stops the comparison)
_SCRATCH = 1 << 20  # bytes of rows a chunk copies, runs and compares at a time


def pack(values, src, dirty) -> tuple:
    return (*values, (src, dirty))


def unpack(cv) -> tuple:
    """``(values, src, dirty)`` of a cluster value."""
    src, dirty = cv[-1]
    return cv[:-1], src, dirty


def run_then(f, cv):
    """``then(f)``: ``f(*values)``; ``None`` is no values (the void rule of [exec.then]).
    A returned argument keeps its origin and counts as written (``f`` may have changed
    it in place)."""
    values, src, dirty = unpack(cv)
    r = f(*values)
    out = () if r is None else (r,)
    by_id = {id(v): s for v, s in zip(values, src) if s is not None}
    osrc = tuple([by_id.get(id(v)) if isinstance(v, np.ndarray) else None for v in out])
    return pack(out, osrc, frozenset(s for s in osrc if s is not None))


def _same(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether the rows are bit for bit the same: compared a block at a time into one
    reused buffer, stopping at the first block that differs."""
    if not (before.flags.c_contiguous and after.flags.c_contiguous) or before.dtype.hasobject:
        return bool(np.array_equal(before, after))
    b, a = before.reshape(-1).view(np.uint8), after.reshape(-1).view(np.uint8)
    if b.size % 8 == 0:
        b, a = b.view(np.int64), a.view(np.int64)
    buf = np.empty(min(_BLOCK, b.size), dtype=bool)
    for i in range(0, b.size, _BLOCK):
        out = buf[: min(_BLOCK, b.size - i)]
        np.not_equal(b[i : i + _BLOCK], a[i : i + _BLOCK], out=out)
        if out.any():
            return False
    return True


def run_chunk(f, chunked: bool, begin: int, end: int, cv):
    """One chunk of a ``bulk``: ``f(i, *values)`` for ``i`` in ``[begin, end)``, or
    ``f(b, e, *values)`` for ``bulk_chunked`` over sub-ranges covering it.

    The chunk goes a *block* of about ``_SCRATCH`` bytes of rows at a time: it copies the
    block's rows of every array into a scratch buffer, runs the calls of those indices,
    and compares; a call ``f(i)`` (``f(b, e)``) may write rows ``i`` (``[b, e)``) of the
    arrays, and the blocks where it did are sent back. (Blocks keep the copy small enough
    to stay in the cache; ``bulk_chunked`` lets the implementation choose its chunks.)
    Returns ``(j, b, e, rows, ...)``: for each array value ``j``, each run ``[b, e)`` of
    changed blocks and those rows. A write to rows of other indices is not returned."""
    values = cv[:-1]
    # A read-only array (NumPy's writeable flag, which travels with it) cannot be written:
    # it is neither watched nor sent back.
    arrays = [(j, v) for j, v in enumerate(values)
              if isinstance(v, np.ndarray) and v.ndim and len(v) > begin and v.flags.writeable]
    if not arrays:
        _calls(f, chunked, begin, end, values)
        return ()
    row_bytes = max(max(v[:1].nbytes for _, v in arrays), 1)
    step = max(1, _SCRATCH // row_bytes)
    scratch = [np.empty((min(step, end - begin),) + v.shape[1:], v.dtype) for _, v in arrays]
    runs: list = [[] for _ in arrays]  # per array: [begin, end] of runs of changed blocks
    # Once a block of an array has changed, the rest of the chunk's rows of that array are
    # sent back without looking (unchanged rows hold the caller's values anyway): an
    # array that is written is compared once, an array that is only read in every block.
    watched = [True] * len(arrays)
    for b in range(begin, end, step):
        e = min(b + step, end)
        for k, ((_, v), buf) in enumerate(zip(arrays, scratch)):
            if watched[k]:
                rows = v[b:e]
                np.copyto(buf[: len(rows)], rows)
        _calls(f, chunked, b, e, values)
        for k, ((_, v), buf) in enumerate(zip(arrays, scratch)):
            rows = v[b:e]
            if len(rows) and (not watched[k] or not _same(buf[: len(rows)], rows)):
                watched[k] = False
                r = runs[k]
                if r and r[-1][1] == b:
                    r[-1][1] = b + len(rows)
                else:
                    r.append([b, b + len(rows)])
    out: list = []
    for (j, v), r in zip(arrays, runs):
        for b, e in r:
            out += (j, b, e, v[b:e])  # a view: only this chunk writes these rows
    return tuple(out)


def _calls(f, chunked, b, e, values) -> None:
    if chunked:
        f(b, e, *values)
    else:
        for i in range(b, e):
            f(i, *values)


def patches_of(rows):
    """The ``(j, b, e, rows)`` entries of what :func:`run_chunk` returned."""
    return zip(rows[0::4], rows[1::4], rows[2::4], rows[3::4])


def apply_patches(cv, *patches):
    """The values after a ``bulk``: the rows each chunk returned, written into them."""
    values, src, dirty = unpack(cv)
    values = list(values)
    written = set(dirty)
    for rows in patches:
        for j, b, e, part in patches_of(rows):
            v = values[j]
            if not v.flags.writeable:
                v = values[j] = v.copy()
            v[b:e] = part
            if src[j] is not None:
                written.add(src[j])
    return pack(values, src, frozenset(written))


def outgoing(cv):
    """What goes back to the caller, ``(*values, src)``: :data:`SAME` for a caller's array
    no step wrote."""
    values, src, dirty = unpack(cv)
    return (*[SAME if s is not None and s not in dirty else v for v, s in zip(values, src)], src)


def join(offsets, *cvs):
    """``when_all``: the children's values in order, their origins renumbered."""
    values, src, dirty = [], [], set()
    for off, (v, s, d) in zip(offsets, map(unpack, cvs)):
        values.extend(v)
        src.extend([None if x is None else x + off for x in s])
        dirty.update(x + off for x in d)
    return pack(values, tuple(src), frozenset(dirty))
