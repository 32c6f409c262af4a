"""``make lab``'s JupyterLab: ``python -m senderlab_kernel.lab [jupyter lab options]`` runs
``jupyter lab`` without one import that costs the server more than half of its start-up.

jupyter_server imports jupyter_events, which imports jsonschema with its non-GPL format
checkers; one of them, ``rfc3987_syntax``, builds an Earley parser of RFC 3987's grammar
as it is imported: about 1.0 s of CPU time on its own. Measured here (2 cores, load
about 11, three alternated runs), a server took 2.2 to 2.5 s of CPU time to listen with
it and 0.94 to 1.01 s without it.
jsonschema imports it only to check the ``iri`` and ``iri-reference`` formats, and goes
without those checks when it is absent (``suppress(ImportError)`` around the import). No
schema the server validates uses them (``tests/test_lab_trust.py`` checks the schemas
installed). So the launcher marks that one module absent in the server's own process
(``sys.modules[name] = None``, which makes an import of it raise ImportError), then runs
JupyterLab's own entry point (the one ``jupyter lab`` runs). Kernels and terminals are
processes of their own and import whatever they like.
"""

from __future__ import annotations

import sys

__all__ = ["SKIPPED_IMPORTS", "leave_out_slow_imports", "main"]

#: Modules the server process goes without: the optional, slow-to-import ones no schema of
#: the server needs.
SKIPPED_IMPORTS = ("rfc3987_syntax",)


def leave_out_slow_imports() -> None:
    """Mark :data:`SKIPPED_IMPORTS` absent in this process (for a server's process only,
    before it imports jupyter_server; one already imported is left as it is)."""
    for name in SKIPPED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main() -> None:
    """``jupyter lab``, less :data:`SKIPPED_IMPORTS`; its options are this process's argv."""
    leave_out_slow_imports()
    from jupyterlab.labapp import main as lab_main

    sys.exit(lab_main())


if __name__ == "__main__":
    main()
