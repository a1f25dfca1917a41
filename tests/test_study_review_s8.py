"""Review, session 8: lrsearch study and report workflows (outputs over other studies' files, ...)."""

from __future__ import annotations

import json

import numpy as np
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


# -- SIGTERM and a killed worker ------------------------------------------------------------------------------------


def test_sigterm_stops_a_study_as_ctrl_c_does_with_exit_143(here, capsys, monkeypatch):
    """kill PID (timeout, docker stop, a batch scheduler) killed the process outright: no summary, no results
    file, and its worker processes left running."""
    import os
    import signal

    import lrsearch.search.objective as objective

    real_train, calls = objective.train, {"n": 0}

    def terminated_at_the_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(objective, "train", terminated_at_the_third)
    assert main(["study", "--data", "iris", "--study-name", "t", "--n-trials", "10", *FAST]) == 143
    out = capsys.readouterr().out
    assert "interrupted" in out and "resume:" in out
    saved = json.loads((here / "studies" / "t.json").read_text())
    assert saved["interrupted"] and saved["summary"]["interrupted_by"] == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back
    assert main(["study", "--data", "iris", "--study-name", "t", "--n-trials", "10", *FAST]) == 0  # resumes


def test_a_library_callers_sigterm_stays_the_default(here, monkeypatch):
    """SIGTERM becomes an interruption on the command line only: a program that calls run_study in a loop must
    still end on kill (it ran on to its next study)."""
    import signal

    import lrsearch.search.objective as objective
    from lrsearch.search import run_study

    real_train, seen = objective.train, []

    def record(*args, **kwargs):
        seen.append(signal.getsignal(signal.SIGTERM))
        return real_train(*args, **kwargs)

    monkeypatch.setattr(objective, "train", record)
    from lrsearch.search._signals import SIGTERM_NOTED

    SIGTERM_NOTED.set()  # left by an earlier command of this process that a SIGTERM stopped: not this study's
    res = run_study("iris", None, storage="memory", n_trials=2, epochs=1, retrain=False, results_path=False,
                    space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    assert seen and all(h == signal.SIG_DFL for h in seen)
    assert not res.interrupted and res.summary["done"] == 2


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""


def _children(pid):
    import os

    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


@pytest.mark.slow
def test_a_worker_killed_outright_leaves_no_trial_short_and_sigterm_stops_the_workers(here):
    """kill -9 of a worker process: its trial stayed RUNNING and counted until the end, so the run said done one
    trial short of --n-trials. And SIGTERM to a 2-worker study left the worker running after the parent died."""
    import os
    import signal
    import subprocess
    import sys
    import time

    cmd = [sys.executable, "-m", "lrsearch", "study", "--data", "digits", "--epochs", "600", "--optimizers", "sgd",
           "--schedules", "constant", "--pruner", "none", "--no-progress", "--n-jobs", "2"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*cmd, "--study-name", "k", "--n-trials", "6"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    deadline = time.time() + 60
    workers = []
    while time.time() < deadline and not workers:  # the loky worker, once it runs trials
        time.sleep(0.5)
        workers = [p for p in _children(proc.pid) if "LokyProcess" in _cmdline(p)]
    assert workers, "no worker process started"
    time.sleep(2.0)  # in its first trials
    for p in workers:
        os.kill(p, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "6 of 6 trials done" in out or "6 of the 6 asked for done" in out, out
    # SIGTERM to the parent of a 2-worker study: results written, exit 143, the worker gone
    proc = subprocess.Popen([*cmd, "--study-name", "t2", "--n-trials", "10000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    deadline = time.time() + 60
    kids = []
    while time.time() < deadline and not kids:
        time.sleep(0.5)
        kids = [p for p in _children(proc.pid) if "LokyProcess" in _cmdline(p)]
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert json.loads((here / "studies" / "t2.json").read_text())["interrupted"]
    time.sleep(2.0)
    alive = [p for p in kids if os.path.exists(f"/proc/{p}") and open(f"/proc/{p}/stat").read().split()[2] != "Z"]
    assert not alive, f"worker processes left running: {alive}"


def test_report_finds_results_written_with_results_and_says_when_there_are_none(here, capsys, caplog):
    """`lrsearch study --results out/wc.json` and then `lrsearch report`: the page had no test metrics, no data
    set and no word why; the study now records where its results went."""
    import logging

    assert main(["study", "--data", "wine", "--study-name", "wc", "--results", "out/wc.json", "--n-trials", "2",
                 *FAST]) == 0  # fmt: skip
    assert main(["report", "--study-name", "wc", "--out", "r.html"]) == 0
    page = (here / "r.html").read_text(encoding="utf-8")
    assert 'id="data"' in page and "wine" in page  # the data set and test metrics come from the results JSON
    (here / "out" / "wc.json").unlink()
    with caplog.at_level(logging.WARNING):
        assert main(["report", "--study-name", "wc", "--out", "r2.html"]) == 0
    assert "no results JSON of study 'wc' found" in caplog.text
    assert 'id="data"' not in (here / "r2.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("table, message", [("{low=1e-4,high=1e-2,log=false}", "always searched log-uniformly"),
                                            ("{low=1e-4,high=1e-2,bogus=1}", "unknown key(s) 'bogus'")])  # fmt: skip
def test_a_rate_range_table_refuses_what_it_cannot_do(here, capsys, table, message):
    """log=false and unknown keys were accepted silently (the rate stayed log-uniform)."""
    code = main(["study", "--data", "iris", "--n-trials", "1", "--set", f"space.lr.adam={table}", *FAST])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    ok = main(["study", "--data", "iris", "--n-trials", "1", "--set", "space.lr.adam={low=1e-4,high=1e-2,log=true}",
               *FAST])  # fmt: skip
    assert ok == 0


def test_r2_needs_two_validation_rows(here, capsys):
    """r2 of one validation row is NaN: every trial was called 'diverged' with advice to narrow the rates."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2))
    np.savez(here / "tiny.npz", X=X, y=X[:, 0] + 0.1 * rng.normal(size=12))
    code = main(["study", "--data", "tiny.npz", "--task", "regression", "--val-size", "0.05", "--test-size", "0.05",
                 "--objective", "r2", "--n-trials", "2", *FAST])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "'r2' needs at least 2 validation rows" in err and "'mse'" in err


def test_step_sizes_and_patience_past_the_run_are_refused_or_warned(here, capsys, caplog):
    import logging

    base = ["study", "--data", "iris", "--n-trials", "1", "--epochs", "5", "--optimizers", "adam", "--no-progress",
            "--storage", "memory"]
    code = main([*base, "--schedules", "step", "--set", "space.step.step_size=[5, 9]"])
    assert code == 2 and "never change the rate" in capsys.readouterr().err
    with caplog.at_level(logging.WARNING):
        assert main([*base, "--schedules", "plateau", "--set", "space.plateau.patience=[1, 8]"]) == 0
    assert "plateau patience reaches 8, too long for the study's 5 epochs: trials drawing 3 or more" in caplog.text
    # a plateau needs a first epoch and patience + 1 more: patience 3 can never act in 5 epochs
    code = main([*base, "--schedules", "plateau", "--set", "space.plateau.patience=[3, 4]"])
    assert code == 2 and "give patience below 3" in capsys.readouterr().err
    # a per-step step schedule counts optimizer steps: 12 steps fit in 5 epochs of iris
    assert main([*base, "--schedules", "step", "--set", "space.step.interval=step",
                 "--set", "space.step.step_size=12"]) == 0  # fmt: skip


def test_search_keeps_a_spec_files_range_and_says_when_a_flag_is_not_used(here, capsys, caplog):
    """--search momentum replaced the spec's momentum = [0.8, 0.95] with the default range, and --batch-size 7
    beside --search batch_size was ignored without a word."""
    import logging

    (here / "odd.toml").write_text('[study]\ndata = "iris"\nepochs = 2\n[space]\noptimizer = ["momentum"]\n'
                                   'schedule = ["constant"]\nmomentum = [0.8, 0.95]\n')  # fmt: skip
    assert main(["study", "--spec", "odd.toml", "--search", "momentum", "--n-trials", "3", "--no-progress",
                 "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["space"]["momentum"]["low"] == 0.8 and out["summary"]["space"]["momentum"]["high"] == 0.95
    with caplog.at_level(logging.WARNING):
        assert main(["study", "--data", "iris", "--study-name", "b", "--search", "batch_size", "--batch-size", "7",
                     "--n-trials", "1", *FAST]) == 0  # fmt: skip
    assert "--batch-size 7 is not used: the study searches batch_size" in caplog.text


def test_sigterm_ends_any_command_with_143_and_is_put_back(here, capsys, monkeypatch):
    """Every command exits 143 on SIGTERM (recommend --method study said 130, as for Ctrl-C); the handler is the
    command line's only while a command runs."""
    import functools
    import os
    import signal

    import lrsearch.finder as finder

    @functools.wraps(finder.find_lr)  # the command reads find_lr's defaults from its signature
    def terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return None

    monkeypatch.setattr(finder, "find_lr", terminated)
    assert main(["find", "--data", "iris"]) == 143
    assert "interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
