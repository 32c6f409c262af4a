"""The senderlab IPython/Jupyter extension.

``%load_ext senderlab_kernel`` (or ``%load_ext senderlab``) puts
``import senderlab as ex`` and every public name of senderlab into the user
namespace and registers the ``%%sender`` magic (see :mod:`.magics`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

# Names this extension put into the user namespace, so unloading removes
# exactly those (and leaves any the user has since rebound).
_pushed: dict[str, object] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext``: push senderlab's names and register ``%%sender``."""
    from .magics import public_namespace, sender

    names = public_namespace()
    ipython.push(names)
    _pushed.clear()
    _pushed.update(names)
    ipython.register_magic_function(sender, magic_kind="line_cell", magic_name="sender")
    from .echo_dashboard import sender_echo

    ipython.register_magic_function(sender_echo, magic_kind="line", magic_name="sender_echo")


def unload_ipython_extension(ipython: Any) -> None:
    """Called by ``%unload_ext``: remove ``%%sender`` and the names ``load`` pushed."""
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("sender", None)
    ipython.magics_manager.magics["line"].pop("sender_echo", None)
    from .echo_dashboard import stop_current

    stop_current()
    user_ns = ipython.user_ns
    for name, value in _pushed.items():
        if user_ns.get(name, None) is value:
            del user_ns[name]
    _pushed.clear()
