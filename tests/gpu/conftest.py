"""The GPU tests run the CUDA parts on Numba's CUDA simulator.

Numba reads ``NUMBA_ENABLE_CUDASIM`` when its configuration is first imported, so it
is set here, when pytest imports this file (before any test module of this directory
imports ``senderlab.gpu``). senderlab's core never imports Numba, and no other test
directory imports ``numba.cuda``; if something imported Numba's configuration earlier,
it is re-read; if ``numba.cuda`` itself was imported earlier without the simulator, the
run stops with a message saying so instead of silently testing something else.

``make test-gpu`` sets ``SENDERLAB_GPU_TESTS=real``: then the simulator stays off and the
tests marked ``gpu`` run on the real device (they are skipped where there is none).
"""

from __future__ import annotations

import os
import sys
import threading

import pytest

from gpu_helpers import REAL

if not REAL:
    # Left set for the whole run: Numba re-reads its configuration when the environment
    # changes, and processes later tests start (notebook kernels) get the simulator too.
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    if "numba.cuda" in sys.modules:
        from numba import config as _config

        if not _config.ENABLE_CUDASIM:
            raise pytest.UsageError(
                "tests/gpu: numba.cuda was imported before tests/gpu/conftest.py without "
                "NUMBA_ENABLE_CUDASIM=1; run the GPU tests in a process of their own or set it in the environment"
            )
    elif "numba.core.config" in sys.modules:
        sys.modules["numba.core.config"].reload_config()


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "gpu: needs a real NVIDIA GPU (make test-gpu); skipped elsewhere")


@pytest.fixture
def no_leaked_threads():
    """Fail the test if it leaves a thread running that was not there before it."""
    threads = set(threading.enumerate())
    yield
    left = [t.name for t in threading.enumerate() if t not in threads and t.is_alive()]
    assert not left, f"threads left running: {left}"
