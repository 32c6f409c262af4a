"""The kernel manager that starts a Jupyter kernel running *this* interpreter.

Shared by the grader's kernel engine (:mod:`senderlab_grade.agent`, inside the
sandbox) and the tests that execute exercise notebooks. The grading of one notebook
itself is :mod:`senderlab_grade.agent` (in the sandbox) and :mod:`senderlab_grade.grade`
(outside it).
"""

from __future__ import annotations

__all__ = ["this_python_kernel_manager"]


def this_python_kernel_manager() -> type:
    """A kernel manager class whose ``python3`` kernel is ipykernel's own spec, i.e. this
    interpreter, whatever other kernels are installed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from traitlets import default

    class this_python(KernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)

    return this_python
