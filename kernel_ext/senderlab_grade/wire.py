"""The channel between the grading process and a sandbox: framing and plain data.

Two directions, two formats, on purpose:

* **grader -> sandbox**: commands pickled with cloudpickle (the sandbox may unpickle
  whatever the grader sends; it is the untrusted side that receives it);
* **sandbox -> grader**: answers as JSON, decoded by :func:`decode` into plain data
  only. Nothing that comes out of the sandbox is unpickled or evaluated: an answer is
  bounded in size (:data:`MAX_ANSWER`) and in depth, and anything that is not of the
  form below raises :class:`malformed`, which the grader counts as the test failing.

A frame is a 4-byte big-endian length and that many bytes.

Plain data as JSON (what :func:`encode` writes and :func:`decode` reads): JSON's own
``null``, booleans, strings, finite numbers and lists (a Python ``list``), and tagged
objects ``{"t": TAG, ...}``: ``tuple``, ``dict`` (a list of key/value pairs), ``set``,
``frozenset``, ``float`` (``nan``, ``inf``, ``-inf``), ``complex``, ``bytes``
(base64), ``ndarray`` (dtype, shape and base64 bytes, for the plain number dtypes),
``error`` (an exception: its class's qualified name, the names of its bases, its
arguments as plain data where they are, its text) and ``ref`` (a handle to an object
left in the sandbox: an id, its type's name and a short repr).
"""

from __future__ import annotations

from typing import Any, Callable

import base64
import builtins
import json
import math
import socket
import struct

__all__ = ["malformed", "encode", "decode", "send_frame", "recv_frame", "MAX_ANSWER", "MAX_DEPTH"]

#: The largest answer the grader reads (bytes); a larger one is malformed.
MAX_ANSWER = 32 * 1024 * 1024
#: How deeply plain data may nest.
MAX_DEPTH = 64
#: Numbers of array elements and of characters kept in texts that describe things.
MAX_REPR = 200
_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128".split()
)


class malformed(Exception):
    """An answer from the sandbox that is not plain data of the expected form."""


# -- framing --------------------------------------------------------------------------


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">I", len(payload)) + payload)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, limit: int | None = None) -> bytes:
    (n,) = struct.unpack(">I", _recv_exact(sock, 4))
    if limit is not None and n > limit:
        raise malformed(f"an answer of {n} bytes, over the limit of {limit}")
    return _recv_exact(sock, n)


# -- encoding (in the sandbox) --------------------------------------------------------


def _short(text: str) -> str:
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def _qualname(t: type) -> str:
    mod = getattr(t, "__module__", "") or ""
    name = getattr(t, "__qualname__", t.__name__)
    return name if mod == "builtins" else f"{mod}.{name}"


def encode(value: Any, ref: Callable[[Any], int] | None = None, _depth: int = 0) -> Any:
    """``value`` as JSON-ready plain data. ``ref(obj) -> int`` keeps an object that is
    not plain data in the sandbox and names it; without ``ref`` such an object is
    described by its type and repr only (``{"t": "ref", "id": None, ...}``)."""
    if _depth > MAX_DEPTH:
        raise ValueError("the value nests too deeply to send")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value if -(2**63) <= value < 2**63 else {"t": "int", "v": str(value)}
    if t is float:
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    d = _depth + 1
    if t is list:
        return [encode(v, ref, d) for v in value]
    if t is tuple:
        return {"t": "tuple", "v": [encode(v, ref, d) for v in value]}
    if t is dict:
        return {"t": "dict", "v": [[encode(k, ref, d), encode(v, ref, d)] for k, v in value.items()]}
    if t is set or t is frozenset:
        return {"t": t.__name__, "v": [encode(v, ref, d) for v in value]}
    if t is complex:
        return {"t": "complex", "v": [repr(value.real), repr(value.imag)]}
    if t is bytes or t is bytearray:
        return {"t": "bytes", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, BaseException):
        args = []
        for a in value.args:
            try:
                args.append(encode(a, None, d))
            except Exception:
                args.append(_short(repr(a)))
        try:
            text = str(value)
        except Exception:
            text = f"<{type(value).__name__} whose str() raised>"
        return {"t": "error", "type": _qualname(t), "mro": [_qualname(b) for b in t.__mro__[1:]],
                "args": args, "message": _short(text)}  # fmt: skip
    np = _numpy()
    if np is not None:
        if t is np.ndarray and value.dtype.name in _DTYPES and value.dtype.kind != "O":
            arr = np.ascontiguousarray(value)
            return {"t": "ndarray", "dtype": arr.dtype.name, "shape": list(arr.shape),
                    "v": base64.b64encode(arr.tobytes()).decode("ascii")}  # fmt: skip
        if isinstance(value, np.generic) and value.dtype.name in _DTYPES:
            return encode(value.item(), ref, _depth) if value.dtype.kind in "biufc" else encode(bool(value), ref, _depth)
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return {"t": "ref", "id": ref(value) if ref else None, "type": _qualname(t), "repr": _short(text)}


def _numpy():
    import sys

    return sys.modules.get("numpy")


# -- decoding (in the grader) ---------------------------------------------------------


def decode(data: Any, make_ref: Callable[..., Any] | None = None, _depth: int = 0) -> Any:
    """Plain data from what :func:`encode` wrote; raises :class:`malformed` for anything
    else. ``make_ref(id, type, repr)`` makes the grader's handle for a ``ref``."""
    if _depth > MAX_DEPTH:
        raise malformed("the answer nests too deeply")
    t = type(data)
    if data is None or t is bool or t is str or t is int:
        return data
    if t is float:
        if not math.isfinite(data):
            raise malformed("a non-finite number outside its tag")
        return data
    d = _depth + 1
    if t is list:
        return [decode(v, make_ref, d) for v in data]
    if t is not dict:
        raise malformed(f"unexpected JSON value of type {t.__name__}")
    tag = data.get("t")
    try:
        if tag == "tuple":
            return tuple(decode(v, make_ref, d) for v in _list(data["v"]))
        if tag == "dict":
            out = {}
            for pair in _list(data["v"]):
                k, v = _list(pair)
                k = decode(k, make_ref, d)
                hash(k)
                out[k] = decode(v, make_ref, d)
            return out
        if tag in ("set", "frozenset"):
            items = [decode(v, make_ref, d) for v in _list(data["v"])]
            return set(items) if tag == "set" else frozenset(items)
        if tag == "int":
            return int(_str(data["v"]))
        if tag == "float":
            v = _str(data["v"])
            if v not in ("nan", "inf", "-inf"):
                raise malformed(f"bad float {v!r}")
            return float(v)
        if tag == "complex":
            re, im = _list(data["v"])
            return complex(float(_str(re)), float(_str(im)))
        if tag == "bytes":
            return base64.b64decode(_str(data["v"]), validate=True)
        if tag == "ndarray":
            return _decode_array(data)
        if tag == "error":
            return decode_error(data, make_ref, d)
        if tag == "ref":
            ident = data["id"]
            if ident is not None and type(ident) is not int:
                raise malformed("a ref's id must be an integer")
            desc = (ident, _str(data["type"])[:MAX_REPR], _str(data["repr"])[:MAX_REPR])
            return make_ref(*desc) if make_ref else opaque(*desc)
    except malformed:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise malformed(f"a {tag!r} value of the wrong form ({type(e).__name__}: {e})") from None
    raise malformed(f"unknown tag {tag!r}")


def _list(v) -> list:
    if type(v) is not list:
        raise malformed("expected a list")
    return v


def _str(v) -> str:
    if type(v) is not str:
        raise malformed("expected a string")
    return v


def _decode_array(data):
    import numpy as np

    dtype = _str(data["dtype"])
    if dtype not in _DTYPES:
        raise malformed(f"arrays of dtype {dtype!r} are not plain data")
    shape = tuple(_list(data["shape"]))
    if not all(type(n) is int and n >= 0 for n in shape):
        raise malformed("bad array shape")
    raw = base64.b64decode(_str(data["v"]), validate=True)
    arr = np.frombuffer(raw, dtype=dtype)
    if arr.size != math.prod(shape):
        raise malformed("the array's bytes do not match its shape")
    return arr.reshape(shape).copy()


class opaque:
    """An object that stayed in the sandbox, known by its type's name and repr only."""

    __slots__ = ("id", "type_name", "text")

    def __init__(self, ident: int | None, type_name: str, text: str) -> None:
        self.id, self.type_name, self.text = ident, type_name, text

    def __repr__(self) -> str:
        return f"<student object {self.text}>"


def decode_error(data: Any, make_ref: Callable[..., Any] | None = None, _depth: int = 0) -> BaseException:
    """An exception rebuilt from plain data: a builtin exception type with the same
    arguments, or a :class:`~senderlab_grade.probes.foreign_error`. Either way marked
    as raised in the sandbox (``_senderlab_from_sandbox``)."""
    from .probes import foreign_error

    name = _str(data["type"])
    mro = [_str(m) for m in _list(data["mro"])]
    args = tuple(decode(a, make_ref, _depth + 1) for a in _list(data["args"]))
    message = _str(data["message"])[:MAX_REPR]
    cls = getattr(builtins, name, None) if "." not in name else None
    err: BaseException
    if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
        try:
            err = cls(*args)
        except Exception:
            err = foreign_error(name, mro, args, message)
    else:
        err = foreign_error(name, mro, args, message)
    err._senderlab_from_sandbox = True  # type: ignore[attr-defined]
    return err


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


def loads(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise malformed(f"not JSON ({type(e).__name__})") from None


def _no_constant(name: str):
    raise malformed(f"JSON constant {name} is not plain data")
