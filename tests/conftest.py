"""Test configuration shared by every test module.

Numba's cache is pointed at a fresh temporary directory (unless the caller
set ``NUMBA_CACHE_DIR``): a stale cache from an older checkout must never
decide a test. It must be set before numba is imported, hence module level.
"""

from __future__ import annotations

import logging
import os
import tempfile

import pytest

if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="lrsearch-numba-")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def quiet_logs():
    """lrsearch's warnings off for a test whose inputs are odd on purpose (``usefixtures("quiet_logs")``)."""
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture
def close_figures():
    """Close every matplotlib figure a test left open (``usefixtures("close_figures")``)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
