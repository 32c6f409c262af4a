"""User functions as Numba compiles them: checks, caching, type inference, errors.

A function given to ``bulk`` or ``then`` on a GPU or Numba-parallel scheduler is
compiled by Numba, which treats the values a closure captures as compile-time
constants. So a closure may capture numbers (and Numba-compiled functions), not objects
or arrays: arrays travel as the values the predecessor sends (``just(x, y)``), which is
how they reach the device by reference.

:func:`canonical` maps every closure of one ``def`` with equal captured values to one
function object, so compiled kernels are cached per function and captured values, not
per closure instance (a pipeline built per call reuses the compiled kernel).
:func:`infer` runs Numba's type inference (no code generation; some tens of ms) and
turns its failure into a :class:`TypeError` naming the function, carrying Numba's
message and a hint. The simulator would otherwise run code a GPU cannot, and it
infers the type of a ``then`` result before launch (the simulator computes in Python,
where ``float32 * 0.1`` silently becomes float64).
"""

from __future__ import annotations

import numbers
import threading
import types as _pytypes
from typing import Any, Callable

__all__ = ["canonical", "infer", "returned_arguments", "compile_error"]

_lock = threading.Lock()
_canonical: dict = {}
_inferred: dict = {}
_returns: dict = {}
_MAX_CANONICAL = 4096

HINT = (
    "Hint: a function compiled by Numba may use numbers, NumPy arrays, tuples of them and "
    "math; capture numbers, not objects (pass arrays as the values the predecessor sends, "
    "e.g. just(x, y) | continues_on(sch) | bulk(n, f) with f(i, x, y)), and call only "
    "Numba-compiled helpers."
)


def _name(f) -> str:
    return getattr(f, "__qualname__", None) or repr(f)


def _captured(where: str, f) -> tuple:
    cells = f.__closure__ or ()
    vals = []
    for name, cell in zip(f.__code__.co_freevars, cells):
        try:
            v = cell.cell_contents
        except ValueError:
            raise TypeError(f"{where}: {_name(f)} captures {name!r} before it is assigned") from None
        ok = isinstance(v, (numbers.Number,)) or hasattr(v, "py_func") or type(v).__name__ == "bool_"
        if not ok:
            raise TypeError(
                f"{where}: {_name(f)} captures {name!r}, a {type(v).__name__}; Numba freezes captured "
                f"values as constants, so a function compiled for the GPU or Numba may capture numbers "
                f"only. Pass {name!r} as one of the values the predecessor sends instead "
                f"(e.g. just({name}, ...) | ... | bulk(n, lambda i, {name}, ...: ...))."
            )
        vals.append((type(v), v))
    return tuple(vals)


def canonical(where: str, f: Callable[..., Any]) -> Callable[..., Any]:
    """The function object that stands for ``f`` (same code, equal captured numbers).

    Raises :class:`TypeError` if ``f`` is not a plain Python function or captures
    anything but numbers."""
    if hasattr(f, "py_func"):  # already a Numba dispatcher
        f = f.py_func
    if not isinstance(f, _pytypes.FunctionType):
        raise TypeError(
            f"{where}: {_name(f)} is a {type(f).__name__}; the GPU and Numba domains compile plain "
            "Python functions (def or lambda)"
        )
    key = (f.__code__, id(f.__globals__), f.__defaults__, _captured(where, f))
    try:
        return _canonical[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable default: no sharing
        return f
    if len(_canonical) >= _MAX_CANONICAL:  # e.g. closures over a counter: bounded anyway
        return f
    with _lock:
        return _canonical.setdefault(key, f)


def compile_error(where: str, f: Callable[..., Any], argtypes: Any, err: BaseException) -> TypeError:
    """The :class:`TypeError` for a function Numba cannot compile."""
    msg = str(err).strip()
    sig = ", ".join(map(str, argtypes))
    e = TypeError(f"{where}: Numba cannot compile {_name(f)}({sig}):\n{msg}\n{HINT}")
    e.__cause__ = err
    return e


def infer(where: str, f: Callable[..., Any], argtypes: tuple) -> Any:
    """Numba's type inference of ``f(*argtypes)``: its return type (cached). Runs Numba's
    untyped passes and its type inference, and stops before code generation."""
    key = (f, argtypes)
    r = _inferred.get(key)
    if r is None:
        from numba.core import compiler, errors
        from numba.core.registry import cpu_target

        tc, xc = cpu_target.typing_context, cpu_target.target_context
        try:
            with _lock:
                tc.refresh()
                xc.refresh()
                flags = compiler.Flags()
                # What a then may return is checked by the caller. (Numba's Flags options are
                # descriptors its stubs do not describe.)
                flags.nrt = True  # type: ignore[misc, assignment]
                r = compiler.compile_extra(tc, xc, f, argtypes, None, flags, {}, pipeline_class=_inference_pipeline())
        except (errors.NumbaError, NotImplementedError, TypeError, ValueError, KeyError) as e:
            raise compile_error(where, f, argtypes, e) from e
        _inferred[key] = r
    return r


_pipeline = None


def _inference_pipeline():
    """A Numba compiler pipeline that ends right after type inference, returning the
    inferred return type (built on first use: it needs Numba)."""
    global _pipeline
    if _pipeline is not None:
        return _pipeline
    from numba.core import compiler, typed_passes
    from numba.core.compiler_machinery import FunctionPass, register_pass

    @register_pass(mutates_CFG=False, analysis_only=True)
    class senderlab_stop_after_typing(FunctionPass):
        _name = "senderlab_stop_after_typing"

        def __init__(self) -> None:
            FunctionPass.__init__(self)

        def run_pass(self, state):
            raise compiler._EarlyPipelineCompletion(state.return_type)

    class senderlab_inference(compiler.CompilerBase):
        def define_pipelines(self):
            pm = compiler.DefaultPassBuilder.define_untyped_pipeline(self.state)
            pm.add_pass(typed_passes.NopythonTypeInference, "nopython frontend")
            pm.add_pass(senderlab_stop_after_typing, "stop after type inference")
            pm.finalize()
            return [pm]

    _pipeline = senderlab_inference
    return _pipeline


def returned_arguments(f: Callable[..., Any]) -> tuple[Any, bool]:
    """Which arguments ``f`` returns, found in its Numba IR, and whether ``f`` does
    nothing else (no stores, calls or raises): ``(path, pure)``. ``path`` is ``(k,)``
    for argument ``k``, ``(k, j)`` for item ``j`` of argument ``k``, a list of such
    paths for a tuple of them, or ``None`` if ``f`` returns anything else. This is how a
    ``then`` on the GPU hands on its own arrays (the P2300 scan's ``return
    std::move(partials)``) without copying them; a pure selection needs no launch."""
    try:
        return _returns[f]
    except KeyError:
        pass
    from numba.core import compiler, ir


    fir = compiler.run_frontend(f)

    def resolve(var):
        d = var
        for _ in range(32):
            try:
                d = fir.get_definition(d)
            except KeyError:
                return None
            if isinstance(d, ir.Arg):
                return (d.index,)
            if isinstance(d, ir.Expr):
                if d.op == "cast" or d.op == "exhaust_iter":
                    d = d.value
                    continue
                if d.op in ("static_getitem", "getitem"):
                    base = resolve(d.value)
                    idx = d.index if d.op == "static_getitem" else _const(fir, d.index)
                    if base is None or len(base) != 1 or not isinstance(idx, int):
                        return None
                    return (base[0], idx)
                if d.op == "build_tuple":
                    items = [resolve(v) for v in d.items]
                    return None if any(x is None or isinstance(x, list) for x in items) else items
            return None
        return None

    found = set()
    result = None
    pure = True
    for blk in fir.blocks.values():
        for st in blk.body:
            if isinstance(st, ir.Return):
                r = resolve(st.value)
                found.add(repr(r))
                result = r
            elif isinstance(st, (ir.SetItem, ir.StaticSetItem, ir.SetAttr, ir.Raise, ir.StaticRaise)):
                pure = False
            elif isinstance(st, ir.Assign) and isinstance(st.value, ir.Expr) and st.value.op == "call":
                pure = False
    if len(found) != 1:
        result = None
    _returns[f] = result, pure
    return result, pure


def _const(fir, var):
    from numba.core import ir

    try:
        d = fir.get_definition(var)
    except KeyError:
        return None
    return d.value if isinstance(d, ir.Const) else None
