"""The project's promises about itself: README's commands, CI, fast import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _command_after(marker: str) -> str:
    lines = (ROOT / "README.md").read_text().splitlines()
    i = lines.index(marker) + 1
    while lines[i].startswith("```"):
        i += 1
    return lines[i]


def test_readme_has_both_commands_and_ci_runs_the_test_one():
    main_cmd = _command_after("<!-- ci:main -->")
    test_cmd = _command_after("<!-- ci:test -->")
    assert "pip install" in main_cmd and "lrsearch " in main_cmd
    assert "pip install" in test_cmd and "pytest" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- ci:test -->" in ci  # .ci/run extracts and runs exactly that line
    assert f"# today: {test_cmd}\n" in ci  # and says which line that is, for a reader of .ci/run
    out = subprocess.run(
        ["awk", '/<!-- ci:test -->/{getline; while ($0 ~ /^```/) getline; print; exit}', "README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert out == test_cmd


def test_import_is_light():
    code = "import sys, lrsearch; bad = [m for m in ('numba', 'optuna', 'pandas', 'matplotlib', 'sklearn') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_facade_resolves_lazily():
    import lrsearch

    for name in lrsearch.__all__:
        assert getattr(lrsearch, name) is not None
