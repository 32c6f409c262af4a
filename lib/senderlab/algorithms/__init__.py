"""The sender algorithms, one module per family (``then.py`` holds then/upon_error/
upon_stopped, ``let.py`` the let_* trio, ...)."""
