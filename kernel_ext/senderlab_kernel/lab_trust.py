"""A Jupyter server extension that ``make lab`` turns on: when the server starts, it trusts
the notebooks the repository stores with their outputs (``notebooks/00-welcome.ipynb``,
written by ``make welcome``), so JupyterLab draws their widgets before any cell runs. An
untrusted notebook shows a stored widget as its text (``FlowWidget(...)``): JupyterLab
renders only "safe" output types for it, and a widget view is not one.

This is what ``jupyter trust notebooks/00-welcome.ipynb`` does (the same notary, the
same signature database under the user's Jupyter data folder), done inside the server:
that command started a second Python that imported nbformat and its schema validators
(about 1.5 s of CPU time, every ``make lab``), which the server has imported already. A
notebook whose signature is already in the database is left alone.

The extension is turned on by ``make lab``'s command line only
(``--ServerApp.jpserver_extensions=senderlab_kernel.lab_trust=True``); a server started
any other way trusts nothing.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STORED_WITH_OUTPUTS"]

#: The notebooks stored with their outputs and widget state, relative to the server's root.
STORED_WITH_OUTPUTS = ("notebooks/00-welcome.ipynb",)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Sign each stored notebook under the server's root that its notary does not trust
    yet, with the notary the server checks notebooks with."""
    import nbformat

    notary = serverapp.contents_manager.notary
    for name in STORED_WITH_OUTPUTS:
        path = Path(serverapp.root_dir) / name
        if not path.is_file():
            continue
        nb = nbformat.read(path, as_version=4)  # as the server reads it for the browser
        if not notary.check_signature(nb):
            notary.sign(nb)
            serverapp.log.info("senderlab: trusted %s (stored with its outputs and widget state)", name)
