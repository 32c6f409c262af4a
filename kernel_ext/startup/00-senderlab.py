# IPython startup file (copied into the profile's startup/ by `make lab` and
# binder/postBuild): loads the senderlab extension in every kernel. Silent
# when not run by IPython.


def _load_senderlab_kernel() -> None:
    import importlib.util
    import sys

    try:
        from IPython import get_ipython
    except ImportError:
        return
    ipython = get_ipython()
    if ipython is None:
        return
    if importlib.util.find_spec("senderlab_kernel") is None:
        print("senderlab: senderlab_kernel is not installed in this environment; "
              "run `make venv` (or `pip install -e .`).", file=sys.stderr)
        return
    ipython.run_line_magic("load_ext", "senderlab_kernel")


_load_senderlab_kernel()
del _load_senderlab_kernel
