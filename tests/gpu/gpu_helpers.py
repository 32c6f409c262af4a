"""What the GPU tests share: whether this run is on a real GPU (``make test-gpu``)."""

from __future__ import annotations

import os

REAL = os.environ.get("SENDERLAB_GPU_TESTS") == "real"


def real_gpu_available() -> bool:
    """Whether the tests marked ``gpu`` can run: ``make test-gpu`` on a machine with a GPU."""
    if not REAL:
        return False
    from numba import config, cuda

    return not config.ENABLE_CUDASIM and cuda.is_available()
