"""Transitional: the consumer receiver with integer channels (0 none yet, 1 value,
2 error, 3 stopped), kept only while ``senderlab_kernel.runner`` subclasses it and
reads ``channel`` as an integer. New code uses :class:`senderlab.core.outcome.consumer_receiver`,
whose ``channel`` is a channel tag."""

from __future__ import annotations

from .outcome import _init_lock, consumer_receiver as _tagged_consumer_receiver

__all__ = ["consumer_receiver"]


class consumer_receiver(_tagged_consumer_receiver):
    """:class:`senderlab.core.outcome.consumer_receiver` with ``channel`` starting at
    ``0``; its subclass sets 1, 2 or 3 itself in ``set_value``/``set_error``/``set_stopped``."""

    __slots__ = ()

    def __init__(self) -> None:
        _tagged_consumer_receiver.__init__(self)
        self.channel = 0  # type: ignore[assignment]


_ = _init_lock  # re-exported for callers that took the lock from here
