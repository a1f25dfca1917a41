"""Review, session 8: lrsearch study and report workflows (outputs over other studies' files, ...)."""

from __future__ import annotations

import json

import optuna
import pytest

from lrsearch.cli import main

optuna.logging.set_verbosity(optuna.logging.WARNING)

FAST = ["--epochs", "2", "--optimizers", "adam", "--schedules", "constant", "--no-progress"]


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    return tmp_path


@pytest.mark.parametrize("flag, target", [("--results", "studies/iris.journal"), ("--results", "studies/iris.json"),
                                          ("--report", "studies/iris.journal"), ("--report", "a.db"),
                                          ("--report", "studies/iris.json")])  # fmt: skip
def test_an_output_over_another_studys_storage_or_results_is_refused(here, capsys, flag, target):
    """Only the running study's own files were protected: --results studies/iris.journal from a study named rj
    replaced study iris's journal with JSON, and report --out over an SQLite database replaced it with HTML."""
    assert main(["study", "--data", "iris", "--n-trials", "1", *FAST]) == 0
    assert main(["study", "--data", "iris", "--n-trials", "1", "--storage", "sqlite:///a.db", "--study-name", "d",
                 *FAST]) == 0  # fmt: skip
    before = (here / target).read_bytes()
    capsys.readouterr()
    code = main(["study", "--data", "iris", "--study-name", "rj", "--n-trials", "1", flag, target, *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "writing it would destroy that" in err and "Traceback" not in err
    assert (here / target).read_bytes() == before
    assert not (here / "studies" / "rj.journal").exists()  # refused before the study
    code = main(["report", "--study-name", "iris", "--out", target])
    assert code == 2 and (here / target).read_bytes() == before


def test_a_study_may_replace_its_own_results_file(here, capsys):
    common = ["study", "--data", "iris", "--results", "out/r.json", *FAST]
    assert main([*common, "--n-trials", "1"]) == 0
    assert main([*common, "--n-trials", "2"]) == 0  # its own results: replaced
    assert json.loads((here / "out" / "r.json").read_text())["summary"]["done"] == 2
    code = main(["study", "--data", "iris", "--study-name", "other", "--results", "out/r.json", "--n-trials", "1",
                 *FAST])  # fmt: skip
    assert code == 2 and "the results JSON of study 'iris'" in capsys.readouterr().err
