"""Functions the cluster tests run on the workers (imported there by name), and a
receiver that records how an operation completed."""

from __future__ import annotations

import os
import threading

import numpy as np

import senderlab as ex


def saxpy(i, a, x, y):
    y[i] = a * x[i] + y[i]


def saxpy_chunk(b, e, a, x, y):
    y[b:e] += a * x[b:e]


def record_pid(b, e, pids):
    pids[b:e] = os.getpid()


def record_pid_each(i, pids):
    pids[i] = os.getpid()


def raise_value_error(*values):
    raise ValueError("bad value 42 on a worker")


def divide_chunk(b, e, x):
    x[b:e] = 1 // (e - e)


def gated_chunk(gate: str, started: str):
    """A bulk_chunked function that reports its pid on the queue ``started`` and then
    waits for the Dask event ``gate`` (bounded, so a broken test cannot hold a worker)."""
    from distributed import Event, Queue

    def chunk(b, e, x):
        Queue(started).put(os.getpid())
        Event(gate).wait(timeout=60)
        x[b:e] = 1.0

    return chunk


def mark(name: str):
    """A then function called ``name`` (its Dask key says so)."""

    def f(*values):
        return values

    f.__name__ = f.__qualname__ = name
    return f


class traveller:
    """Remembers every process that unpickled it."""

    def __init__(self) -> None:
        self.unpickled_in = []

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        self.unpickled_in.append(os.getpid())


class recorder:
    """A receiver with a stop token of its own; ``done`` is set on completion."""

    def __init__(self) -> None:
        self.source = ex.inplace_stop_source()
        self.done = threading.Event()
        self.channel = self.result = None

    def set_value(self, *values) -> None:
        self.channel, self.result = "value", values
        self.done.set()

    def set_error(self, err) -> None:
        self.channel, self.result = "error", err
        self.done.set()

    def set_stopped(self) -> None:
        self.channel = "stopped"
        self.done.set()

    def get_env(self):
        return ex.prop(ex.get_stop_token, self.source.get_token())


def arange(n):
    return np.arange(n, dtype=np.float64)


def sparse_marks(b, e, z, short):
    """Marks every 1 000 003rd row of ``z`` (2-D) and never writes ``short``."""
    rows = np.arange(b, e)
    picked = rows[rows % 1_000_003 == 0]
    z[picked, 1] = picked + 1
    assert short.sum() == 0
