"""The domain of a stream scheduler (stdexec's nvexec ``stream_domain``; P2300R10 sender
algorithm customization, [exec.domain.default], [exec.snd.transform]).

:meth:`stream_domain.transform_sender` runs at connect time for every algorithm whose
predecessor completes on the context's scheduler (or, naming none, is started there) and
replaces it by the GPU sender of its own module: :mod:`.transfer`, :mod:`.bulk`,
:mod:`.then`, :mod:`.when_all`, :mod:`.split`. The algorithms with no GPU form
(``let_*``, ``upon_error``, ``upon_stopped``) raise :class:`TypeError` naming the fix.
"""

from __future__ import annotations

from typing import Any

from ...algorithms.split import _split_sender
from ...algorithms.then import _then_sender
from ...algorithms.when_all import _when_all_sender
from ...core.domain import completion_domain, env_domain
from .bulk import _BULK_KINDS, _gpu_bulk_sender
from .scheduler import stream_scheduler
from .sender import _gpu_sender
from .split import _gpu_split_sender
from .then import _gpu_then_sender
from .transfer import _gpu_transfer_sender
from .when_all import _gpu_when_all_sender

__all__ = ["stream_domain"]

_UNSUPPORTED = frozenset(("let_value", "let_error", "let_stopped", "upon_error", "upon_stopped"))
_SUPPORTED = "then, bulk, bulk_chunked, bulk_unchunked, when_all, split and continues_on"
_gpu_sender_types = (_gpu_sender, _gpu_when_all_sender)


class stream_domain:
    """The domain of a :class:`~.scheduler.stream_scheduler` (see the module docstring;
    nvexec ``stream_domain``, [exec.domain.default]); equal for the same context."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def _here(self, sndr: Any, env: Any = None) -> bool:
        """Whether ``sndr`` completes on this context: its attributes name this domain,
        or they name none and it is started on this context (``env`` names it: the
        inside of ``starts_on(gpu, ...)`` and ``on(gpu, ...)``)."""
        f = getattr(sndr, "_completion_domain", None)
        d = f() if f is not None else completion_domain(sndr)
        if d is None and env is not None:
            d = env_domain(env)
        return d == self

    def transform_sender(self, sndr: Any, env: Any = None) -> Any:
        """``sndr``'s GPU form where it has one and runs on this context, else ``sndr``
        itself (or what its own ``transform_sender`` hook makes of it) ([exec.snd.transform])."""
        if isinstance(sndr, _gpu_sender_types):
            return sndr
        tag = getattr(sndr, "tag", None)
        ctx = self.ctx
        if tag in ("continues_on", "schedule_from"):
            sch = getattr(sndr, "sch", None)
            if type(sch) is stream_scheduler and sch.ctx is ctx:
                return _gpu_transfer_sender(sndr.child, ctx, sndr)
        elif tag == "split" and type(sndr) is _split_sender:
            if self._here(sndr.child, env):
                return _gpu_split_sender(sndr.child, ctx, sndr)
        elif tag == "when_all" and type(sndr) is _when_all_sender:
            if any(self._here(c) for c in sndr.children):
                return _gpu_when_all_sender(sndr.children, ctx, sndr)
        else:
            child = getattr(sndr, "child", None)
            if child is not None and self._here(child, env):
                if tag in _BULK_KINDS:
                    return _gpu_bulk_sender(child, ctx, sndr)
                if tag == "then" and type(sndr) is _then_sender:
                    return _gpu_then_sender(child, ctx, sndr)
                if tag in _UNSUPPORTED and not getattr(child, "host_values", False):
                    raise TypeError(
                        f"{tag} cannot run on the GPU: it follows work on {ctx.get_scheduler()!r}, whose domain "
                        f"runs {_SUPPORTED}. Move it to the host first: "
                        f"... | continues_on(cpu_scheduler) | {tag}(...)"
                    )
        hook = getattr(sndr, "transform_sender", None)
        return sndr if hook is None else hook(env)

    def __eq__(self, other: object) -> bool:
        return type(other) is stream_domain and other.ctx is self.ctx

    def __hash__(self) -> int:
        return id(self.ctx)

    def __repr__(self) -> str:
        return f"stream_domain({self.ctx._backend!r})"

