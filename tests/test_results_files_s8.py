"""Where a study's results JSON is found (session 8): SQLite URLs relative to another working directory,
`lrsearch report --studies-dir`, and `--report` naming the alternate results file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import optuna

from lrsearch.cli import main

optuna.logging.set_verbosity(optuna.logging.WARNING)

FAST = ["--epochs", "2", "--optimizers", "adam", "--schedules", "constant", "--no-progress"]


def test_a_relative_sqlite_url_from_another_directory_is_another_database(big_csv, capsys):
    """`sqlite:///x.db` run in a/ and in b/ names two databases; with one --studies-dir both studies' default
    results file is studies/big.json. The URL was compared as written, so the second study replaced the first's
    results. The file now records the database's absolute path, and the second study's go to x-big.json."""
    for d in ("a", "b"):
        (big_csv / d).mkdir()
    os.chdir(big_csv / "a")
    common = ["--data", "../big.csv", "--storage", "sqlite:///x.db", "--studies-dir", "../studies", *FAST]
    assert main(["study", *common, "--n-trials", "1"]) == 0
    saved = big_csv / "studies" / "big.json"
    first = saved.read_bytes()
    assert json.loads(first)["storage_file"] == str(big_csv / "a" / "x.db")
    os.chdir(big_csv / "b")
    capsys.readouterr()
    assert main(["study", *common, "--n-trials", "2"]) == 0
    assert "results: ../studies/x-big.json" in capsys.readouterr().out
    assert saved.read_bytes() == first  # kept
    assert json.loads((big_csv / "studies" / "x-big.json").read_text())["summary"]["done"] == 2
    # the first database again, from its own directory: its own results are replaced, as before
    os.chdir(big_csv / "a")
    assert main(["study", *common, "--n-trials", "3"]) == 0
    assert json.loads(saved.read_text())["summary"]["done"] == 3


def test_report_finds_a_study_run_with_another_studies_dir(big_csv, capsys):
    """`lrsearch study --studies-dir runs` keeps its journal and results in runs/; `lrsearch report` had no
    --studies-dir, so it looked for studies/big.journal and could not find the study without --storage, and for a
    database it never found the results JSON (the test metrics)."""
    from lrsearch.cli.report_cmd import resolve_storage

    assert main(["study", "--data", "big.csv", "--studies-dir", "runs", "--n-trials", "2", *FAST]) == 0
    capsys.readouterr()
    assert main(["report", "--study-name", "big", "--out", "r1.html"]) == 2
    err = capsys.readouterr().err
    assert "studies/big.journal" in err and "--studies-dir" in err and "Traceback" not in err
    assert main(["report", "--study-name", "big", "--studies-dir", "runs", "--out", "r1.html"]) == 0
    assert ">test<" in (big_csv / "r1.html").read_text(encoding="utf-8")  # the results JSON's test metrics
    assert main(["study", "--data", "big.csv", "--storage", "sqlite:///a.db", "--studies-dir", "db",
                 "--n-trials", "2", *FAST]) == 0  # fmt: skip
    assert resolve_storage("sqlite:///a.db", "big", studies_dir="db")[2] == Path("db/big.json")
    assert resolve_storage("sqlite:///a.db", "big")[2] == Path("studies/big.json")  # not there: no test metrics
    assert main(["report", "--study-name", "big", "--storage", "sqlite:///a.db", "--studies-dir", "db",
                 "--out", "r2.html"]) == 0  # fmt: skip
    assert ">test<" in (big_csv / "r2.html").read_text(encoding="utf-8")


def test_a_report_path_naming_the_alternate_results_file_is_refused_before_the_study(big_csv, capsys):
    """x/big.json is the first journal's: the second journal's results go to x/big2-big.json. A --report naming
    that file passed the check before the study (which compared with x/big.json only) and was refused after it,
    so the report was lost; it is now refused before anything runs."""
    assert main(["study", "--data", "big.csv", "--storage", "x/big.journal", "--n-trials", "1", *FAST]) == 0
    capsys.readouterr()
    code = main(["study", "--data", "big.csv", "--storage", "x/big2.journal", "--n-trials", "1",
                 "--report", "x/big2-big.json", *FAST])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "x/big2-big.json" in err and "results JSON" in err
    assert not (big_csv / "x" / "big2.journal").exists()  # refused before the study
