"""The three forms of ``bulk`` ([exec.bulk]: ``bulk``, ``bulk_chunked``,
``bulk_unchunked``) as the GPU backends and domains name them: ``f(i, ...)`` per index
(``_BULK``, ``_UNCHUNKED``) or ``f(begin, end, ...)`` per chunk (``_CHUNKED``).
A module of its own so that the backends and the domains that launch kernels share
them without importing one another.
"""

from __future__ import annotations

__all__: list[str] = []

_BULK, _CHUNKED, _UNCHUNKED = 0, 1, 2

# An algorithm's tag -> its form.
_BULK_KINDS = {"bulk": _BULK, "bulk_chunked": _CHUNKED, "bulk_unchunked": _UNCHUNKED}
