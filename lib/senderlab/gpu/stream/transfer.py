"""``continues_on(gpu)`` / ``schedule_from(gpu, s)`` on a stream context ([exec.continues.on],
[exec.schedule.from]; nvexec's ``continues_on``): host values move onto a stream, GPU
values stay where they are.
"""

from __future__ import annotations

from typing import Any

from ...core.env import fwd_env
from .sender import _gpu_receiver, _gpu_sender

__all__: list[str] = []


class _gpu_transfer_sender(_gpu_sender):
    """``continues_on(gpu)``: host values move onto a stream; GPU values stay put."""

    __slots__ = ()

    def _connect(self, rcvr: Any, env: Any) -> Any:
        return self.child.connect(_gpu_receiver(rcvr, fwd_env(env), self.ctx, None))

    def get_env(self) -> Any:
        return self.orig.get_env()

    def _late_domain(self) -> Any:
        return self.ctx._domain
