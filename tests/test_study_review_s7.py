"""Review of `lrsearch study` (session 7): default results files of same-named studies in other storages, the
epoch-derived default ranges of short studies, the wait message at the budget, and more workers than cores."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import optuna
import pytest

from lrsearch.cli import main
from lrsearch.nn import train
from lrsearch.nn.schedules import schedule_rates
from lrsearch.search import run_study
from lrsearch.search import runner as runner_module
from lrsearch.search.space import Range, default_schedule_params, default_warmup, dim_values

optuna.logging.set_verbosity(optuna.logging.WARNING)

FAST = ["--epochs", "2", "--optimizers", "adam", "--schedules", "constant", "--no-progress"]
ONE = {"optimizer": ["adam"], "schedule": ["constant"]}


# -- A. default results files ------------------------------------------------------------------------------------


def test_a_same_named_study_in_another_journal_does_not_replace_the_default_results(big_csv, capsys):
    """Two journals in one folder, one study name (the data file's stem): the second study's results silently
    replaced the first's in x/big.json. They now go to x/big2-big.json, where `lrsearch report` finds them; a
    study whose both default files are another storage's is refused before it runs."""
    from lrsearch.cli.report_cmd import resolve_storage

    assert main(["study", "--data", "big.csv", "--storage", "x/big.journal", "--n-trials", "1", *FAST]) == 0
    first = (big_csv / "x" / "big.json").read_bytes()
    assert json.loads(first)["storage"] == "x/big.journal"
    capsys.readouterr()
    assert main(["study", "--data", "big.csv", "--storage", "x/big2.journal", "--n-trials", "1", *FAST]) == 0
    assert "results: x/big2-big.json" in capsys.readouterr().out
    assert (big_csv / "x" / "big.json").read_bytes() == first  # kept
    assert json.loads((big_csv / "x" / "big2-big.json").read_text())["storage"] == "x/big2.journal"
    assert resolve_storage("x/big2.journal", "big")[2] == Path("x/big2-big.json")  # the report reads its own
    assert resolve_storage("x/big.journal", "big")[2] == Path("x/big.json")
    (big_csv / "x" / "big3-big.json").write_text(json.dumps({"study_name": "big", "storage": "elsewhere.journal"}))
    code = main(["study", "--data", "big.csv", "--storage", "x/big3.journal", "--n-trials", "1", *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "holds the results of study 'big' in elsewhere.journal" in err and "--results" in err
    assert not (big_csv / "x" / "big3.journal").exists()  # refused before the study
    # the same journal named from another working directory is the same study: its results are replaced
    os.chdir(big_csv / "x")
    assert main(["study", "--data", "../big.csv", "--storage", "big.journal", "--n-trials", "2", *FAST]) == 0
    assert json.loads((big_csv / "x" / "big.json").read_text())["summary"]["done"] == 2


def test_a_same_named_study_in_another_database_does_not_replace_the_default_results(big_csv, capsys):
    """Every database study's default results file is studies/<name>.json: two SQLite files collided there."""
    assert main(["study", "--data", "big.csv", "--storage", "sqlite:///a.db", "--n-trials", "1", *FAST]) == 0
    saved = big_csv / "studies" / "big.json"
    before = saved.read_bytes()
    capsys.readouterr()
    assert main(["study", "--data", "big.csv", "--storage", "sqlite:///b.db", "--n-trials", "1", *FAST]) == 0
    assert "results: studies/b-big.json" in capsys.readouterr().out  # named after its database too
    assert saved.read_bytes() == before
    absolute = f"sqlite:///{big_csv / 'a.db'}"  # the same database by another URL: the same study
    assert main(["study", "--data", "big.csv", "--storage", absolute, "--n-trials", "2", *FAST]) == 0
    assert json.loads(saved.read_text())["summary"]["done"] == 2


def test_results_written_by_another_storages_study_during_the_run_are_kept(tmp_path, caplog):
    """The check before the run cannot see a same-named study of another storage that finishes first: the file
    is checked again before it is written."""
    journal = tmp_path / "d" / "iris.journal"
    default = tmp_path / "d" / "iris.json"
    other = {"study_name": "iris", "storage": str(tmp_path / "d" / "iris2.journal"), "summary": {}}

    def progress(_):
        if not default.exists():
            default.write_text(json.dumps(other))

    res = run_study("iris", None, storage=str(journal), n_trials=1, epochs=1, retrain=False, space=ONE,
                    progress=progress)  # fmt: skip
    assert json.loads(default.read_text()) == other  # kept; this study's results go beside it
    assert Path(res.results_path) == tmp_path / "d" / "iris-iris.json"
    assert json.loads(Path(res.results_path).read_text())["storage"] == str(journal)


def test_the_default_results_of_the_same_study_are_replaced_after_overwrite(tmp_path):
    journal = str(tmp_path / "iris.journal")
    common = {"storage": journal, "epochs": 1, "retrain": False, "space": ONE}
    run_study("iris", None, n_trials=2, **common)
    res = run_study("iris", None, n_trials=1, overwrite=True, **common)  # deleted and created again: ours
    assert json.loads(Path(res.results_path).read_text())["summary"]["n_trials"] == 1


# -- B. epoch-derived default ranges -------------------------------------------------------------------------------


def _rates(schedule, params, epochs):
    """The rate of each epoch of a run (one batch per epoch) that never improves on its first epoch: zero inputs and
    balanced classes give a zero gradient (the network starts at the uniform prediction)."""
    X = np.zeros((8, 2), dtype=np.float32)
    y = np.array([0, 1] * 4)
    res = train(X, y, task="classification", hidden=(2,), epochs=epochs, batch_size=8, lr=1.0,
                schedule=schedule, schedule_params=params, X_val=X, y_val=y, compute_metrics=False)  # fmt: skip
    return np.asarray(res.lrs)


@pytest.mark.parametrize("epochs", [*range(1, 23), 30, 41])
def test_every_default_step_size_and_patience_acts_within_the_run(epochs):
    """With 2 epochs the default space searched step_size 1-2 and patience 1-2: a step of 2 never comes within 2
    epochs and no patience cuts the rate before the run ends; warm-up 0-1 was half the run."""
    params = default_schedule_params(epochs)
    warmups = range(int(min(dim_values(default_warmup(epochs)))), int(max(dim_values(default_warmup(epochs)))) + 1)
    steps = dim_values(params["step"]["step_size"])
    patiences = dim_values(params["plateau"]["patience"])
    for warm in warmups:
        for step in range(int(min(steps)), int(max(steps)) + 1):
            rates = schedule_rates("step", 1.0, steps_per_epoch=1, epochs=epochs, step_size=step, gamma=0.5,
                                   warmup=warm)  # fmt: skip
            assert epochs == 1 or rates.min() < 1.0, (epochs, warm, step)  # one epoch: nothing can step
        for patience in range(int(min(patiences)), int(max(patiences)) + 1):
            rates = _rates("plateau", {"patience": patience, "factor": 0.5, "warmup": warm}, epochs)
            assert epochs < 3 or rates[-1] < 1.0, (epochs, warm, patience)
    if epochs < 3:  # nothing can act: a fixed value, not a search over values that all train alike
        assert not isinstance(params["plateau"]["patience"], Range) and len(patiences) == 1
    if epochs < 2:
        assert not isinstance(params["step"]["step_size"], Range)
    warm_high = max(dim_values(default_warmup(epochs)))
    assert warm_high <= max(epochs // 10, 1 if epochs >= 5 else 0)  # docs: 0 - epochs/10 (0-1 from 5 epochs)


def test_the_docs_table_of_short_studies_is_the_code():
    text = (Path(__file__).resolve().parents[1] / "docs" / "study.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([\d –]+) \| ([\d –]+) \| ([\d –]+) \|$", text, flags=re.MULTILINE)
    assert len(rows) >= 6

    def shown(dim):
        values = dim_values(dim)
        return str(values[0]) if len(values) == 1 else f"{values[0]} – {values[1]}"

    for epochs, warm, step, patience in rows:
        params = default_schedule_params(int(epochs))
        assert (shown(default_warmup(int(epochs))), shown(params["step"]["step_size"]),
                shown(params["plateau"]["patience"])) == (warm, step, patience), epochs  # fmt: skip


def test_the_default_space_of_six_epochs_and_more_is_unchanged():
    """A study created before the review with 6+ epochs resumes: its default ranges are the same."""
    old = {6: ((0, 1), (1, 3), (1, 2)), 10: ((0, 1), (1, 5), (1, 2)), 19: ((0, 1), (1, 9), (1, 3)),
           30: ((0, 3), (3, 15), (1, 6)), 100: ((0, 10), (10, 50), (1, 20))}  # fmt: skip
    for epochs, (warm, step, patience) in old.items():
        params = default_schedule_params(epochs)
        assert tuple(dim_values(default_warmup(epochs))) == warm
        assert tuple(dim_values(params["step"]["step_size"])) == step
        assert tuple(dim_values(params["plateau"]["patience"])) == patience


# -- C. the wait at the budget -------------------------------------------------------------------------------------


def test_no_wait_warning_for_this_runs_own_workers_but_one_for_another_machines(tmp_path, monkeypatch, caplog):
    """'budget reached while 1 trial(s) run elsewhere: waiting up to 50 s' was printed for the trial of this run's
    own second worker; it stays for another machine's trial."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    common = {"storage": url, "epochs": 1, "retrain": False, "results_path": False, "heartbeat_interval": 1,
              "space": ONE}
    run_study("iris", None, n_trials=1, **common)
    study = optuna.load_study(study_name="iris", storage=url)
    monkeypatch.setattr(runner_module, "uuid", SimpleNamespace(uuid4=lambda: SimpleNamespace(hex="ownrun" * 3)))

    def running_trial(run, worker):
        trial = study.ask()
        trial.set_user_attr("run", run)
        trial.set_user_attr("worker", worker)
        threading.Timer(1.0, study.tell, (trial, 0.5)).start()  # it ends a moment later
        return trial

    mine = running_trial("ownrun" * 2, f"{socket.gethostname()}:{os.getpid()}:1")  # this run's other worker
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        run_study("iris", None, n_trials=2, **common)
    assert "budget reached" not in caplog.text
    assert study.get_trials(deepcopy=False)[mine.number].state.name == "COMPLETE"  # waited for it to end
    running_trial("someone-else", "another-machine:4242:0")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        run_study("iris", None, n_trials=3, **common)
    assert caplog.text.count("budget reached while 1 trial(s) run elsewhere") == 1


# -- D. more workers than cores -----------------------------------------------------------------------------------


def test_more_workers_than_cores_warns_once(tmp_path, monkeypatch, caplog):
    """--n-jobs 8 on 2 cores ran 8 processes taking turns, without a word."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)  # this process may use 1 core
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        res = run_study("iris", None, storage=str(tmp_path / "j.journal"), n_trials=2, n_jobs=2, epochs=1,
                        retrain=False, results_path=False, space=ONE)  # fmt: skip
    lines = [r.getMessage() for r in caplog.records if "worker processes on" in r.getMessage()]
    assert len(lines) == 1 and "2 worker processes on 1 CPU core:" in lines[0] and "--n-jobs -1" in lines[0]
    assert res.summary["done"] == 2  # and it ran
    assert runner_module._resolve_jobs(-1) == 1  # -1: one per core this process may use, not every core
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        run_study("iris", None, storage="memory", n_trials=1, epochs=1, retrain=False, space=ONE)
    assert "worker processes on" not in caplog.text



def test_a_refused_resume_whose_ranges_differ_says_which_set_flags_resume_it(tmp_path, capsys):
    """A study whose stored ranges differ from today's defaults for the same command (as a short study made
    before session 7's ranges): the refusal gives the --set flags that resume it as created, and they do."""
    journal = str(tmp_path / "s.journal")
    old = ["--set", "space.warmup=[0, 1]", "--set", "space.plateau.patience=[1, 2]"]
    base = ["study", "--data", "iris", "--epochs", "2", "--storage", journal, "--hidden", "4"]
    assert main([*base, "--n-trials", "2", *old]) == 0
    capsys.readouterr()
    assert main([*base, "--n-trials", "3"]) == 2
    err = capsys.readouterr().err
    flags = re.findall(r"--set '([^']+)'", err)
    assert sorted(flags) == ["space.plateau.patience=[1, 2]", "space.warmup=[0, 1]"], err
    again = [arg for flag in flags for arg in ("--set", flag)]
    assert main([*base, "--n-trials", "3", *again]) == 0
    assert "3 of 3 trials done" in capsys.readouterr().out
    # a changed setting that is not a range gets no such hint: "the same settings" is the answer there
    assert main([*base[:4], "4", *base[5:], "--n-trials", "3", *old]) == 2  # (3 epochs: patience 1 cannot act)
    assert "--set" not in capsys.readouterr().err


def test_the_report_reads_a_studys_own_alternate_results_when_the_default_file_is_gone(big_csv, capsys):
    """The second journal's results went to x/big2-big.json because x/big.json was the first's: moving x/big.json
    away (or it becoming unreadable) must not make the second study's report lose them."""
    from lrsearch.cli.report_cmd import resolve_storage

    assert main(["study", "--data", "big.csv", "--storage", "x/big.journal", "--n-trials", "1", *FAST]) == 0
    assert main(["study", "--data", "big.csv", "--storage", "x/big2.journal", "--n-trials", "1", *FAST]) == 0
    capsys.readouterr()
    (big_csv / "x" / "big.json").rename(big_csv / "moved.json")
    assert resolve_storage("x/big2.journal", "big")[2] == Path("x/big2-big.json")
    (big_csv / "x" / "big.json").write_text("{not json")
    assert resolve_storage("x/big2.journal", "big")[2] == Path("x/big2-big.json")
    assert resolve_storage("x/big.journal", "big")[2] == Path("x/big.json")  # the first study: its default
