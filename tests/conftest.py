"""Suite-wide pytest configuration.

This file also makes ``tests/`` importable: with pytest's default ``prepend`` import
mode, the directory of a ``conftest.py`` that is not inside a package is put on
``sys.path``, so test modules anywhere below can write ``from helpers import ...``.
(Setting ``pythonpath = ["tests"]`` in ``[tool.pytest.ini_options]`` would say the same
thing explicitly.)
"""
