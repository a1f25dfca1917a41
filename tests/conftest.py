"""Test configuration shared by every test module.

Numba's cache is pointed at a fresh temporary directory (unless the caller
set ``NUMBA_CACHE_DIR``): a stale cache from an older checkout must never
decide a test. It must be set before numba is imported, hence module level.
"""

from __future__ import annotations

import logging
import os
import tempfile

import numpy as np
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


@pytest.fixture
def big_csv(tmp_path, monkeypatch):
    """A two-class CSV named big.csv in a fresh working directory (its study is named 'big')."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    rows = "".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in zip(X, y))
    (tmp_path / "big.csv").write_text("a,b,y\n" + rows)
    return tmp_path
