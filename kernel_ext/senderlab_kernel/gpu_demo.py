"""``%%sender --gpu``: a ``bulk`` pipeline on the CUDA scheduler, animated, with a Bokeh
plot of throughput against N for NumPy, the CPU thread pool, the Numba-parallel domain
and the GPU domain (stdexec's nvexec; P2300 sender algorithm customization).

Before the cell runs, :func:`prepare` picks the device and binds ``gpu``, the scheduler
of one :class:`senderlab.gpu.stream_context` kept for the kernel, in the user namespace:

* an NVIDIA GPU is found (``/proc/driver/nvidia/version``, or ``nvidia-smi -L`` succeeds):
  numba-cuda runs the kernels on it;
* none is found and Numba is not imported yet: ``NUMBA_ENABLE_CUDASIM=1`` is set first,
  so Numba's CUDA simulator runs them (each GPU thread in Python: slow, and labelled so
  everywhere: the printed line, the plot's title and legend);
* ``NUMBA_ENABLE_CUDASIM=1`` was already set: the simulator, whatever the machine has.

``%sender --gpu`` with no code (the line magic) runs :data:`DEFAULT_CELL`, a SAXPY. The
launches appear in the animation as ``bulk [gpu]`` (``then [gpu]``, ``continues_on
[gpu]``) on the ``senderlab-gpu-completion`` lane: under tracing each GPU step
synchronizes, so each launch is its own completion.

The plot (:func:`throughput_panel`) measures ``y = a * x + y`` in place, float64, for a
few N: NumPy ``y += a * x``; ``bulk_chunked(par, n, f)`` on a ``static_thread_pool`` with
NumPy chunks; ``bulk(par, n, saxpy)`` on ``numba_parallel_scheduler()``; ``bulk(n,
saxpy)`` on ``gpu`` with device arrays. Each point is the best of a few timed calls after
a warm-up (compilation), about a few seconds in all; on the simulator the GPU series stops
at N = :data:`SIMULATOR_MAX_N`. The figures are kept for the kernel (the same device gives
the same plot without measuring again).
"""

from __future__ import annotations

from typing import Any, Sequence

import os
import subprocess
import sys
import time

__all__ = ["prepare", "device_label", "throughput", "throughput_panel", "DEFAULT_CELL", "SIMULATOR_MAX_N"]

#: What ``%sender --gpu`` with no code runs: SAXPY on the GPU, summed on the host.
DEFAULT_CELL = """\
import numpy as np
n = 4096
x, y = np.arange(n, dtype=np.float64), np.ones(n)
def saxpy(i, a, x, y):
    y[i] = a * x[i] + y[i]
just(2.0, x, y) | continues_on(gpu) | bulk(n, saxpy) | continues_on(inline_scheduler()) \\
    | then(lambda a, x, y: float(y.sum()))
"""

#: The largest N the plot runs on the simulator.
SIMULATOR_MAX_N = 4096
_SIZES_REAL = (10**3, 10**4, 10**5, 10**6, 10**7)
_SIZES_SIM = (2**8, 2**10, 2**12, 2**14, 2**16)

_ctx = None  # the kernel's stream_context
_label = None
_measured: dict = {}  # label -> the throughput figures


def nvidia_gpu_present() -> bool:
    """Whether this machine has an NVIDIA GPU with its driver loaded."""
    if os.path.exists("/proc/driver/nvidia/version"):
        return True
    try:
        r = subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0 and b"GPU" in r.stdout


def _simulator_on() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def choose_device() -> None:
    """Set ``NUMBA_ENABLE_CUDASIM=1`` where there is no GPU and Numba's CUDA part is not
    imported yet (see the module docstring); raise ``RuntimeError`` saying what to do
    where that is too late."""
    if _simulator_on() or nvidia_gpu_present():
        return
    if "numba.cuda" in sys.modules:
        raise RuntimeError(
            "no NVIDIA GPU was found, and numba.cuda was imported without NUMBA_ENABLE_CUDASIM=1, so the "
            "simulator cannot be switched on in this kernel any more. Restart the kernel and run the "
            "%%sender --gpu cell before anything uses numba.cuda, or set NUMBA_ENABLE_CUDASIM=1 in the environment")
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    config = sys.modules.get("numba.core.config")
    if config is not None:  # Numba itself was imported: it re-reads its configuration
        config.reload_config()


def device_label() -> str:
    """The device the kernel's stream context runs on, in words."""
    return _label or "(no GPU context yet)"


def describe_backend(backend: Any) -> str:
    """A stream context's device, in words."""
    if getattr(backend, "name", None) == "numpy":
        return "the fake NumPy device of senderlab.gpu.numpy_backend (not a GPU)"
    if backend.simulator:
        why = "NUMBA_ENABLE_CUDASIM=1" if nvidia_gpu_present() else "no NVIDIA GPU found"
        return f"Numba's CUDA simulator ({why}): each GPU thread runs in Python"
    from numba import cuda

    name = cuda.get_current_device().name
    return f"CUDA device {name.decode() if isinstance(name, bytes) else name}"


def gpu_context() -> Any:
    """The kernel's :class:`senderlab.gpu.stream_context` (made on first use)."""
    global _ctx, _label
    if _ctx is None:
        choose_device()
        import senderlab

        ctx = senderlab.gpu.stream_context()
        _label = describe_backend(ctx._backend)
        _ctx = ctx
    return _ctx


def prepare(ipython: Any, source: str) -> str | None:
    """Before a ``--gpu`` cell runs: pick the device, bind ``gpu`` (unless it already
    names a stream scheduler: the user's own is kept), say which device is in use; the
    cell's source (:data:`DEFAULT_CELL` for no code), or ``None`` after saying in the
    cell's output why the GPU cannot be used."""
    try:
        ctx = gpu_context()
        import senderlab

        mine = ipython.user_ns.get("gpu")
        if not isinstance(mine, senderlab.gpu.stream_scheduler):
            mine = ipython.user_ns["gpu"] = ctx.get_scheduler()
        where = describe_backend(mine.ctx._backend)
    except Exception as e:
        print(f"%%sender --gpu: {e}", file=sys.stderr)
        return None
    print(f"%%sender --gpu: `gpu` runs on {where}")
    return source if source.strip() else DEFAULT_CELL


# -- the throughput plot -----------------------------------------------------------------------


def saxpy(i, a, x, y):
    y[i] = a * x[i] + y[i]


def saxpy_chunk(b, e, a, x, y):
    y[b:e] += a * x[b:e]


def _best(fn, budget: float = 0.08, most: int = 5) -> float:
    fn()  # warm-up: compiles, allocates
    best = float("inf")
    spent = 0.0
    for _ in range(most):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best = min(best, dt)
        spent += dt
        if spent > budget:
            break
    return best


def throughput(sizes: Sequence[int] | None = None) -> dict:
    """``{"sizes": [...], "series": {name: [elements per second or None, ...]}, "device":
    label}``: SAXPY on each engine (see the module docstring). Checked against NumPy."""
    import numpy as np

    import senderlab as ex

    ctx = gpu_context()
    sim = ctx._backend.simulator
    sizes = list(sizes or (_SIZES_SIM if sim else _SIZES_REAL))
    gpu = ctx.get_scheduler()
    cpu = ex.gpu.numba_parallel_scheduler()
    gpu_name = "GPU bulk (CUDA simulator)" if sim else "GPU bulk (device arrays)"
    names = ("NumPy y += a*x", "CPU pool bulk_chunked", "Numba-parallel bulk", gpu_name)
    series: dict = {name: [] for name in names}
    a = 2.0
    from numba import cuda

    with ex.static_thread_pool(os.cpu_count() or 1) as pool:
        for n in sizes:
            x = np.arange(n, dtype=np.float64)
            want = a * x + 1.0
            ys = [np.ones(n) for _ in range(3)]
            s_pool = ex.just(a, x, ys[1]) | ex.continues_on(pool.get_scheduler()) | ex.bulk_chunked(ex.par, n, saxpy_chunk)
            s_cpu = ex.just(a, x, ys[2]) | ex.continues_on(cpu) | ex.bulk(ex.par, n, saxpy)
            cases = [lambda: np.add(ys[0], a * x, out=ys[0]), lambda: ex.sync_wait(s_pool), lambda: ex.sync_wait(s_cpu)]
            dy = None
            if not sim or n <= SIMULATOR_MAX_N:
                dx, dy = cuda.to_device(x), cuda.to_device(np.ones(n))
                s_gpu = ex.just(a, dx, dy) | ex.continues_on(gpu) | ex.bulk(n, saxpy)
                cases.append(lambda: ex.sync_wait(s_gpu))
            for name, fn, y in zip(names, cases, ys + [None]):
                if y is not None:
                    y[:] = 1.0
                    fn()  # one checked call
                    got = y
                else:
                    assert dy is not None  # the GPU case is in cases only where dy was made
                    dy.copy_to_device(np.ones(n))
                    fn()
                    got = dy.copy_to_host()
                if not np.allclose(got, want):
                    raise AssertionError(f"%%sender --gpu: {name} computed a wrong SAXPY for n = {n}")
                series[name].append(n / _best(fn))
            if len(cases) < 4:
                series[gpu_name].append(None)
    return {"sizes": sizes, "series": series, "device": device_label()}


def throughput_plot(figures: dict) -> Any:
    """A log-log Bokeh figure of the figures (elements per second against N)."""
    from bokeh.palettes import Category10
    from bokeh.plotting import figure

    where = "Numba's CUDA simulator" if "simulator" in figures["device"] else figures["device"]
    p = figure(title=f"SAXPY y = a*x + y, float64: elements per second (GPU: {where})", x_axis_type="log",
               y_axis_type="log", height=360, min_width=480, max_width=980, sizing_mode="stretch_width",
               x_axis_label="N", y_axis_label="elements / s", toolbar_location=None)
    for (name, ys), color in zip(figures["series"].items(), Category10[10]):
        pts = [(n, y) for n, y in zip(figures["sizes"], ys) if y]
        if not pts:
            continue
        xs, vs = zip(*pts)
        p.line(xs, vs, legend_label=name, color=color, line_width=2)
        p.scatter(xs, vs, legend_label=name, color=color, size=6)
    p.legend.label_text_font_size = "9pt"
    p.add_layout(p.legend[0], "right")  # beside the plot, over no line
    return p


def throughput_panel() -> Any:
    """The plot as a live ``jupyter_bokeh.BokehModel`` under a line naming the device; the
    figures are measured once per device and kept."""
    import ipywidgets
    from jupyter_bokeh import BokehModel

    from .bokeh_setup import load_bokehjs

    load_bokehjs()  # before the plot is displayed
    key = device_label()
    figures = _measured.get(key)
    if figures is None:
        figures = _measured[key] = throughput()
    label = ipywidgets.HTML(f"<b>bulk on {figures['device']}</b>")
    panel = ipywidgets.VBox([label, BokehModel(throughput_plot(figures))])
    panel.figures = figures
    return panel
