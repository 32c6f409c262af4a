"""A CUDA stream scheduler and its domain (stdexec's nvexec ``stream_context``; P2300
sender algorithm customization, [exec.domain.default], [exec.snd.transform]).

``ctx = stream_context()``; ``gpu = ctx.get_scheduler()``. The scheduler's domain,
:class:`stream_domain`, transforms at connect time every algorithm whose predecessor
completes on ``gpu`` (or, naming no scheduler, is started there: the inside of
``starts_on(gpu, ...)`` and ``on(gpu, ...)``):

* ``bulk``, ``bulk_chunked``, ``bulk_unchunked`` ([exec.bulk]) become kernel launches:
  ``f`` is compiled with ``cuda.jit(device=True)`` and called from a generated kernel
  (``f(i, *values)`` per index; ``f(begin, end, *values)`` per chunk); the values are
  then forwarded unchanged (the same arrays, written in place). A kernel has no
  sequential mode: every policy, ``seq`` (that of ``bulk(n, f)``) included, runs as
  ``par_unseq``, as in nvexec. (The Numba-parallel domain keeps ``seq`` sequential.)
* ``then(f)`` ([exec.then]) runs ``f`` on one GPU thread. Its result type is inferred
  by Numba before the launch: nothing gives no values, a number stays on the device
  until the chain leaves the GPU, and a function returning its own array arguments (or
  items of a tuple argument) hands those on by reference. (numba-cuda compiles a device
  function returning an array only if it returns an argument itself; a ``then`` that
  only selects, like ``lambda t: t[1]``, is not launched at all.)
* ``continues_on(gpu)``/``schedule_from(gpu, s)`` move host values onto a stream;
  ``when_all`` of GPU senders runs each child on its own stream and joins the streams
  with events.
* ``split`` ([exec.split]) of GPU work runs its source once on a stream and keeps its
  values on the device: GPU consumers launch on streams that wait for it with an event,
  host consumers share one copy back (:mod:`senderlab.gpu.stream.split`).
* ``let_value``, ``let_error``, ``let_stopped``, ``upon_error``, ``upon_stopped`` after
  GPU work raise :class:`TypeError` at connect, naming the algorithm (after a ``split``
  they run on the host, with its copied-back values).

Fusion: a chain ``then | bulk | bulk`` on one context is a sequence of launches on one
stream with no host synchronization between them; each operation hands the stream on to
the next (as nvexec's operations borrow the stream of the one before). The chain
*leaves* the GPU where the next receiver is not a GPU operation (``continues_on(cpu)``,
``sync_wait``, any host algorithm): an event is recorded and the context's completion
thread waits for it with the GIL released, finishes the copies back and completes the
receiver. User code never runs on a CUDA driver thread.

Values: numbers by value; device arrays and objects with ``__cuda_array_interface__``
by reference, never copied; host NumPy arrays are copied in through pinned staging
buffers and, when the chain leaves the GPU, copied back into the same host arrays (the
in-place meaning of CPU ``bulk``); ``stream_context(copy_back=False)`` keeps them on the
device (the receiver gets device arrays). Tuples of these are converted item by item.

Errors: a function Numba cannot compile completes with a :class:`TypeError` naming it
(with Numba's message and a hint); an error from a launch or a transfer (a CUDA error,
or the exception a simulated kernel raises) completes with ``set_error``; the stop token
is checked before each enqueue, and a stopped chain still waits for the work already
enqueued before completing with ``set_stopped``.

``await ctx.async_done()`` waits, without blocking an asyncio loop, for the work
submitted to the context so far (:meth:`stream_context.async_done`).

Under tracing or checked mode the receivers are wrapped for the trace, so each step
leaves the GPU and the next enters it again: the same results, with a synchronization
per step that the picture shows.

The package keeps one file per algorithm, as nvexec does: :mod:`.context` (the context),
:mod:`.completer` (its completion thread), :mod:`.scheduler`, :mod:`.domain`, the GPU
forms :mod:`.transfer`, :mod:`.bulk`, :mod:`.then`, :mod:`.when_all`, :mod:`.split`, and
the plumbing they share (:mod:`.run`, :mod:`.sender`, :mod:`.launch`).
"""

from __future__ import annotations

from .context import stream_context
from .domain import stream_domain
from .scheduler import stream_scheduler

__all__ = ["stream_context", "stream_scheduler", "stream_domain"]
