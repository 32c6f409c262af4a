"""A CPU scheduler whose domain compiles ``bulk`` with Numba (P2300 sender algorithm
customization, [exec.domain.default], [exec.bulk]).

``cpu = numba_parallel_scheduler()``: ``schedule(cpu)`` completes inline, on the thread
that starts it. Its domain, :class:`numba_parallel_domain`, transforms every ``bulk``,
``bulk_chunked`` and ``bulk_unchunked`` whose predecessor completes on ``cpu``, so
``just(z) | continues_on(cpu) | bulk(n, f)`` runs ``f`` compiled:

* with ``par`` or ``par_unseq`` (and for ``bulk_unchunked``) in an
  ``njit(parallel=True, nogil=True)`` ``prange`` loop over ``f(i, *values)``, ``f``
  compiled with ``njit`` (LLVM inlines it; with Numba 0.68's ``inline="always"`` the
  scan's tile functions gave wrong results inside ``prange``, so it is not used);
* with ``seq`` or ``unseq``, the policy of ``bulk(n, f)`` without one, in the same
  loop with ``range``: compiled, on the calling thread, in order, as ``seq`` requires;
* ``bulk_chunked`` calls ``f(begin, end, *values)`` once per chunk, one chunk per
  Numba thread, in a ``prange`` over the chunks.

The compiled loop is cached per function (equal captured numbers share it, see
:mod:`senderlab.gpu.function`), algorithm, arity and policy; Numba compiles it again
for new argument types. The values are forwarded unchanged (arrays written in place).
A function Numba cannot compile completes with a :class:`TypeError` naming it; an
exception raised by the compiled function completes with ``set_error``. The same
pipeline without this scheduler runs ``f`` in the interpreter: the transformation is
the only difference.
"""

from __future__ import annotations

import threading
from typing import Any

from ..core.env import _MISSING, fwd_env, get_domain
from ..core.domain import completion_domain
from ..core.scheduler import scheduler_base
from ..core.sender import adaptor_sender, forwarding_receiver
from ..core.signatures import get_completion_signatures
from ..contexts.inline import _inline_sender
from ..contexts.timer import scheduler_attrs
from .bulk_kinds import _BULK_KINDS as _KINDS, _CHUNKED, _UNCHUNKED
from .function import canonical, compile_error, infer

__all__ = ["numba_parallel_scheduler", "numba_parallel_domain"]


_LOOP_SRC = """
def run(n, chunks, {params}):
    for i in prange(n):
        f(i, {params})
"""

_CHUNKED_SRC = """
def run(n, chunks, {params}):
    size = (n + chunks - 1) // chunks
    for c in prange(chunks):
        b = c * size
        e = min(b + size, n)
        if b < e:
            f(b, e, {params})
"""

_loops: dict = {}
_loops_lock = threading.Lock()


def _loop(f, kind: int, nargs: int, parallel: bool):
    key = (f, kind, nargs, parallel)
    run = _loops.get(key)
    if run is None:
        import numba

        params = ", ".join(f"a{j}" for j in range(nargs))
        src = (_CHUNKED_SRC if kind == _CHUNKED else _LOOP_SRC).format(params=params)
        g = {"prange": numba.prange if parallel else range, "min": min, "f": numba.njit(f)}
        exec(compile(src, f"<senderlab.gpu Numba loop for {getattr(f, '__qualname__', f)}>", "exec"), g)
        run = numba.njit(parallel=parallel, nogil=True)(g["run"])
        with _loops_lock:
            run = _loops.setdefault(key, run)
    return run


class numba_parallel_scheduler(scheduler_base):
    """A scheduler completing inline whose domain runs ``bulk`` compiled by Numba
    (see the module docstring). All instances are equal."""

    __slots__ = ("_attrs",)

    def __init__(self) -> None:
        self._attrs = scheduler_attrs(self)

    def schedule(self) -> "_numba_schedule_sender":
        return _numba_schedule_sender(self)

    def query(self, q: object) -> numba_parallel_domain:
        if q is get_domain:
            return _DOMAIN
        raise LookupError(q)


class _numba_schedule_sender(_inline_sender):
    """``schedule(numba_parallel_scheduler())``: completes inline, in the Numba domain."""

    __slots__ = ("sch",)

    def __init__(self, sch) -> None:
        _inline_sender.__init__(self)
        self.sch = sch

    def _late_domain(self):
        return _DOMAIN

    def get_env(self):
        return self.sch._attrs

    def __repr__(self) -> str:
        return "schedule(numba_parallel_scheduler())"


class numba_parallel_domain:
    """Transforms ``bulk``, ``bulk_chunked``, ``bulk_unchunked`` after work on a
    :class:`numba_parallel_scheduler` into compiled loops; leaves the rest alone."""

    __slots__ = ()

    def transform_sender(self, sndr: Any, env: Any = None) -> Any:
        tag = getattr(sndr, "tag", None)
        if tag in _KINDS and not isinstance(sndr, _numba_bulk_sender):
            child = sndr.child
            f = getattr(child, "_completion_domain", None)
            if (f() if f is not None else completion_domain(child)) == self:
                return _numba_bulk_sender(child, sndr)
        hook = getattr(sndr, "transform_sender", None)
        return sndr if hook is None else hook(env)

    def __eq__(self, other: object) -> bool:
        return type(other) is numba_parallel_domain

    def __hash__(self) -> int:
        return 4

    def __repr__(self) -> str:
        return "numba_parallel_domain()"


_DOMAIN = numba_parallel_domain()


class _numba_bulk_receiver(forwarding_receiver):
    __slots__ = ("sndr",)

    def __init__(self, rcvr, env, sndr) -> None:
        self.rcvr = rcvr
        self.env = env
        self.sndr = sndr

    def set_value(self, *values) -> None:
        s = self.sndr
        try:
            # Numba's dispatcher picks (or compiles) the version for these values.
            _loop(s.f, s.kind, len(values), s.parallel)(s.shape, s.chunks, *values)
        except Exception as e:
            self.rcvr.set_error(_explain(s, values, e))
            return
        self.rcvr.set_value(*values)


def _explain(s, values, e):
    """The error to send: for a compile error, a TypeError naming the user's function
    (not the generated loop) with Numba's message about it."""
    import numba
    from numba.core.errors import NumbaError

    if not isinstance(e, NumbaError):
        return _unwrap(e)
    types = tuple([numba.typeof(v) for v in values])
    try:
        infer(s.tag, s.f, (numba.int64,) * (2 if s.kind == _CHUNKED else 1) + types)
    except TypeError as te:
        return te
    return compile_error(s.tag, s.f, types, e)


def _unwrap(e):
    # An exception raised inside a parallel loop reaches Python as "SystemError: ...
    # returned a result with an exception set", caused by the exception itself.
    if isinstance(e, SystemError) and isinstance(e.__cause__, Exception) and "exception set" in str(e):
        return e.__cause__
    return e


class _numba_bulk_sender(adaptor_sender):
    """``bulk`` lowered onto a compiled loop; keeps the replaced sender as ``orig``."""

    __slots__ = ("orig", "f", "kind", "shape", "chunks", "parallel")

    def __init__(self, child, orig) -> None:
        import numba

        self._dom = self._cs = _MISSING
        self.child = child
        self.orig = orig
        self.kind = _KINDS[orig.tag]
        self.shape = orig.shape
        self.parallel = self.kind == _UNCHUNKED or orig.policy.parallel
        self.chunks = max(1, min(self.shape, numba.get_num_threads())) if self.parallel else 1
        self.f = canonical(orig.tag, orig.f)

    @property
    def tag(self) -> str:
        return self.orig.tag

    def _connect(self, rcvr, env):
        return self.child.connect(_numba_bulk_receiver(rcvr, fwd_env(env), self))

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.orig, env)

    def __repr__(self) -> str:
        return f"{self.orig!r} on numba_parallel_scheduler()"
