# senderlab — a fresh machine needs only Python 3.11+ and make.
#
#   make lab     JupyterLab on the course (it opens notebooks/00-welcome.ipynb; exercises/ is
#                reachable from it), with %load_ext senderlab_kernel done for you
#   make exercises  the same server, its file browser on exercises/ (the graded exercises)
#   make grade SUBMISSIONS=dir OUT=dir   grade a folder of submissions (python -m senderlab_grade)
#   make site    execute the tutorials and the talk into a static HTML site under site/
#   make welcome re-execute notebooks/00-welcome.ipynb and store it with its outputs
#   make test    the test suite (pytest; notebook execution included)
#   make test-312  the same suite on Python 3.12, Binder's, in .venv312 (CI runs both)
#   make bench   every benchmark: ratios against plain Python, asyncio, uvloop, reactivex, executors
#   make venv    just build .venv (done automatically by the targets above)

PYTHON ?= python3
VENV ?= .venv
EXTRAS ?= lab,test,bench,cluster
PYTEST_ARGS ?=
LAB_ARGS ?=
# Jupyter refuses to start as root (containers, CI) unless told to.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)

BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# IPython's startup directory lives inside the venv so the extension never
# leaks into the user's own ~/.ipython.
IPYTHONDIR_VENV := $(abspath $(VENV))/ipython
STARTUP := $(IPYTHONDIR_VENV)/profile_default/startup/00-senderlab.py
# JupyterLab's settings overrides (widget state saved in the notebook, no news toast) and
# page config (no build check: pip's JupyterLab is prebuilt), read from the environment's
# share/jupyter/lab/settings wherever senderlab starts Lab.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
LAB_SETTINGS_FILES := $(LAB_SETTINGS)/overrides.json $(LAB_SETTINGS)/page_config.json
# make lab's server: the extension that trusts the stored welcome (its pictures draw before
# a cell runs; kernel_ext/senderlab_kernel/lab_trust.py), and without notebook_shim (for the
# classic Notebook, not installed; about 0.1 s of the server's start).
LAB_SERVER_ARGS := --ServerApp.jpserver_extensions=senderlab_kernel.lab_trust=True \
  --ServerApp.jpserver_extensions=notebook_shim=False
# What `make lab` opens; the server's root is the repository, so the tutorials and the
# exercises link to each other.
LAB_OPEN ?= notebooks/00-welcome.ipynb

.PHONY: venv test test-312 test-gpu lab exercises startup bench clean distclean ci-deps grade site welcome

venv: $(STAMP)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "senderlab needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	    echo "Run e.g. 'make PYTHON=python3.11 ...'." >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
	  { rm -rf $(VENV); echo "'$(PYTHON) -m venv' failed; on Debian/Ubuntu install the python3-venv package." >&2; exit 1; }

# The stamp makes re-runs instant; editing pyproject.toml reinstalls, and so does a new
# top-level package (an editable install maps the packages it saw when it was made).
$(STAMP): pyproject.toml $(wildcard lib/*/__init__.py kernel_ext/*/__init__.py) | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar off -e ".[$(EXTRAS)]"
	@touch $@

test: venv
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Binder runs Python 3.12 (binder/environment.yml); the default venv may be older. The
# first python3.12 that runs: on PATH, else pyenv's.
PYTHON312 ?= $(shell for p in python3.12 $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12; do \
  "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)

test-312:
	@test -n "$(PYTHON312)" || { echo "make test-312 needs Python 3.12 (python3.12 on PATH, or pyenv install 3.12)" >&2; exit 1; }
	$(MAKE) test PYTHON="$(PYTHON312)" VENV=.venv312

startup: $(STARTUP) $(LAB_SETTINGS_FILES)

$(STARTUP): kernel_ext/startup/00-senderlab.py | $(STAMP)
	@mkdir -p $(@D)
	cp $< $@

$(LAB_SETTINGS)/%.json: kernel_ext/startup/%.json | $(STAMP)
	@mkdir -p $(@D)
	cp $< $@

# The welcome is stored with its outputs and widget state (make welcome); the server trusts
# it as it starts (LAB_SERVER_ARGS), so JupyterLab draws its pictures before any cell runs.
# `python -m senderlab_kernel.lab` is `jupyter lab` less one slow optional import (lab.py).
lab: venv startup
	IPYTHONDIR="$(IPYTHONDIR_VENV)" $(PY) -m senderlab_kernel.lab --notebook-dir=. \
	  --LabApp.default_url=/lab/tree/$(LAB_OPEN) $(LAB_SERVER_ARGS) $(ROOT_ARGS) $(LAB_ARGS)

exercises:
	$(MAKE) lab LAB_OPEN=exercises

# The README's grading command, with the venv's Python spelled out.
grade: venv
	@[ -n "$(SUBMISSIONS)" ] && [ -n "$(OUT)" ] || \
	  { echo "usage: make grade SUBMISSIONS=<folder of <student>/*.ipynb> OUT=<folder for the gradebook>" >&2; exit 1; }
	$(PY) -m senderlab_grade grade "$(SUBMISSIONS)" --out "$(OUT)"

# A static site of the executed tutorials and the talk (no kernel, no network needed to
# read it): site/index.html. NOTEBOOKS=... builds only those.
site: venv
	$(PY) -m senderlab_kernel.site --out site $(NOTEBOOKS)

# notebooks/00-welcome.ipynb stored with its outputs and widget state (its first picture
# plays as soon as `make lab` opens it); tests/test_notebooks.py says when it is stale.
welcome: venv
	$(PY) -m senderlab_kernel.site --store-welcome

bench: venv
	$(PY) bench/overhead.py
	$(PY) bench/concurrency.py
	$(PY) bench/task.py
	$(PY) bench/import_time.py
	$(PY) bench/bulk.py
	$(PY) bench/tracing.py
	$(PY) bench/echo.py
	$(PY) bench/cluster.py

# The tests marked gpu, on a machine with an NVIDIA GPU and driver: installs the CUDA
# toolkit wheels numba-cuda needs for the driver's CUDA version (and CuPy, for the scan
# comparison), runs them on the device printing the figures, then bench/bulk.py --quick.
test-gpu: venv
	@cuda=$$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9]*\)\..*/\1/p' | head -n 1); \
	if [ -z "$$cuda" ]; then echo "make test-gpu needs an NVIDIA GPU and its driver (nvidia-smi found none)" >&2; exit 1; fi; \
	$(PY) -m pip install --quiet "numba-cuda[cu$$cuda]>=0.30,<0.31" && \
	{ $(PY) -m pip install --quiet "cupy-cuda$${cuda}x" || echo "CuPy not installed: the scan is compared with numpy.cumsum only"; }
	SENDERLAB_GPU_TESTS=real $(PY) -m pytest -q -s -m gpu tests/gpu $(PYTEST_ARGS)
	$(PY) bench/bulk.py --quick

# System programs the end-to-end tests use, as command=Debian package: chromium (the
# browser test drives it with Playwright, never a downloaded browser), socat (a real
# client for the echo servers) and bubblewrap (the grader's sandbox per submission).
# Needs root or sudo; .ci/run calls it.
# command-or-file=package: what the tests drive (a browser, an echo client, the grader's
# sandbox) and the fonts tests/test_no_emoji.py reads the coverage of
CI_PACKAGES := chromium=chromium socat=socat bwrap=bubblewrap fc-query=fontconfig \
  /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf=fonts-dejavu-core
ci-deps:
	@missing=""; for cp in $(CI_PACKAGES); do k=$${cp%%=*}; { command -v $$k >/dev/null || [ -e "$$k" ]; } || missing="$$missing $${cp#*=}"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing$$missing (apt-get)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends$$missing >/dev/null; \
	fi

clean:
	rm -rf build dist .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o \
	  \( -name __pycache__ -o -name '*.egg-info' -o -name .ipynb_checkpoints \) -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
