"""Test configuration shared by every test module.

Numba's cache is pointed at a fresh temporary directory (unless the caller
set ``NUMBA_CACHE_DIR``): a stale cache from an older checkout must never
decide a test. It must be set before numba is imported, hence module level.
"""

from __future__ import annotations

import os
import tempfile

if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="lrsearch-numba-")
os.environ.setdefault("MPLBACKEND", "Agg")
