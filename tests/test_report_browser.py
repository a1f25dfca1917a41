"""The report renders in a real browser: headless Chromium takes a screenshot of it offline.

Skipped when no Chromium binary is found (CI installs Debian's ``chromium``); set
``LRSEARCH_CHROMIUM`` to the binary to use another one.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from lrsearch.report import build_report

try:
    from .test_report_fakes import fake_range_test, fake_study, fake_train_result
except ImportError:
    from test_report_fakes import fake_range_test, fake_study, fake_train_result

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def _chromium() -> str | None:
    env = os.environ.get("LRSEARCH_CHROMIUM")
    if env:
        return env
    return next((p for p in map(shutil.which, _NAMES) if p), None)


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary found (looked for chromium, chromium-browser, google-chrome; set LRSEARCH_CHROMIUM, "
    "or apt-get install chromium as .ci/run does)",
)


def test_report_renders_in_headless_chromium(tmp_path):
    import matplotlib.image as mpimg

    study = fake_study(range_tests=(fake_range_test(),), best_result=fake_train_result())
    page = build_report(tmp_path / "report.html", study=study)
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,3000", page.resolve().as_uri()]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert shot.is_file(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    img = mpimg.imread(shot)[..., :3]  # floats in [0, 1]
    assert img.shape[:2] == (3000, 1200)
    non_white = (img < 0.94).any(axis=2).mean()
    assert non_white > 0.05, f"the screenshot is (nearly) blank: {non_white:.1%} non-white pixels"
    # the page's own accent (#1f5fbf, the header rule and recommendation bar): the CSS applied, this is our page
    accent = np.array([0x1F, 0x5F, 0xBF]) / 255
    assert (np.abs(img - accent).max(axis=2) < 0.06).sum() > 500
    # and the embedded figures drew: some pixels of the plots' blue (#1f77b4)
    blue = np.array([0x1F, 0x77, 0xB4]) / 255
    assert (np.abs(img - blue).max(axis=2) < 0.06).sum() > 200
