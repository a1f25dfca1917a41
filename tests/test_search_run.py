"""run_study end to end on tiny studies: results, resume, divergence, pruning, budgets, Ctrl-C."""

from __future__ import annotations

import json
import os
from collections import Counter

import numpy as np
import optuna
import pytest

from lrsearch.data import load
from lrsearch.exceptions import ConfigError
from lrsearch.search import TRIAL_COLUMNS, run_study

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def iris():
    return load("iris", seed=0)


SMALL = {"optimizer": ["adam", "sgd"], "schedule": ["constant", "cosine"], "warmup": 0}


def test_results_table_json_and_best_retrain(iris, tmp_path):
    res = run_study(iris, storage="memory", study_name="t", n_trials=8, epochs=6, space=SMALL,
                    results_path=tmp_path / "r.json", pruner="none")  # fmt: skip
    df = res.trials
    assert list(df.columns[: len(TRIAL_COLUMNS) - 1]) == list(TRIAL_COLUMNS[:-1]) and "curve" in df.columns
    assert len(df) == 8 and set(df["state"]) == {"COMPLETE"}
    assert df["param_lr"].notna().all() and (df["epochs_run"] == 6).all() and df["diverged_reason"].isna().all()
    assert all(len(c) == 6 for c in df["curve"])  # report_every auto: 1 for 6 epochs
    adam = df["param_optimizer"] == "adam"
    assert df.loc[adam, "param_lr_adam"].notna().all() and df.loc[adam, "param_lr_sgd"].isna().all()
    assert {"val_accuracy", "val_cross_entropy", "duration_s", "param_cosine_eta_min_factor"} <= set(df.columns)
    assert res.direction == "minimize" and res.objective == "val_loss"
    assert res.best_value == pytest.approx(df["value"].min())
    # the retrained best is the best trial, bit for bit (same seeds)
    assert res.best_result.val_loss[-1] == pytest.approx(res.best_value, rel=1e-6)
    assert set(res.best_test_metrics) == {"accuracy", "precision", "recall", "f1", "cross_entropy"}
    s = res.summary
    assert (s["n_trials"], s["complete"], s["pruned"], s["failed"], s["n_jobs"]) == (8, 8, 0, 0, 1)
    assert {"elapsed_s", "sampler", "pruner", "aim", "diverged"} <= set(s)
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["best_value"] == pytest.approx(res.best_value) and len(saved["trials"]) == 8
    assert saved["best_config"]["optimizer"] == res.best_params["optimizer"]
    assert res.results_path == tmp_path / "r.json"


def test_resume_same_name_runs_only_what_is_missing(iris, tmp_path):
    kw = {"study_name": "r", "storage": tmp_path / "r.journal", "epochs": 4, "space": SMALL, "retrain": False}
    first = run_study(iris, n_trials=5, **kw)
    assert first.summary["created"] and first.summary["trials_this_run"] == 5
    assert (tmp_path / "r.json").exists()  # results sit next to the journal
    second = run_study(iris, n_trials=8, **kw)
    assert not second.summary["created"]
    assert (second.summary["n_trials"], second.summary["trials_this_run"]) == (8, 3)
    third = run_study(iris, n_trials=8, **kw)
    assert third.summary["trials_this_run"] == 0 and third.summary["n_trials"] == 8
    # the journal (written without fsync, queued on flock) is Optuna's format: stock Optuna reads it
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    stock = optuna.load_study(study_name="r", storage=JournalStorage(JournalFileBackend(str(tmp_path / "r.journal"))))
    assert len(stock.trials) == 8 and stock.best_value == pytest.approx(third.best_value)


def test_a_trial_left_running_by_a_dead_local_process_is_failed_on_resume(iris, tmp_path):
    import socket
    import subprocess
    import sys

    kw = {"study_name": "z", "storage": tmp_path / "z.journal", "epochs": 3, "space": SMALL, "retrain": False}
    first = run_study(iris, n_trials=3, **kw)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    zombie = first.study.ask({"optimizer": optuna.distributions.CategoricalDistribution(["adam", "sgd"])})
    zombie.set_user_attr("worker", f"{socket.gethostname()}:{dead.pid}:7")  # a worker killed mid-trial
    second = run_study(iris, n_trials=4, **kw)
    states = dict(zip(second.trials["number"], second.trials["state"]))
    assert states[zombie.number] == "FAIL"
    assert list(second.trials["state"]).count("COMPLETE") + list(second.trials["state"]).count("PRUNED") == 4


def test_a_different_space_for_an_existing_name_is_a_clear_error(iris, tmp_path):
    kw = {"study_name": "d", "storage": tmp_path / "d.journal", "n_trials": 2, "retrain": False}
    run_study(iris, epochs=4, space=SMALL, **kw)
    with pytest.raises(ConfigError, match=r"different definition .*space\.optimizer: \['adam', 'sgd'\] -> \['adam'\]"):
        run_study(iris, epochs=4, space={**SMALL, "optimizer": ["adam"]}, **kw)
    with pytest.raises(ConfigError, match="epochs: 4 -> 5"):
        run_study(iris, epochs=5, space=SMALL, **kw)
    fresh = run_study(iris, epochs=5, space=SMALL, overwrite=True, **kw)
    assert fresh.summary["created"] and fresh.summary["n_trials"] == 2


def test_divergence_is_recorded_pruned_and_never_crashes(iris):
    space = {"optimizer": ["sgd", "adam"], "lr": {"sgd": [300.0, 1000.0], "adam": [1e-3, 1e-2]},
             "schedule": ["constant"], "warmup": 0}  # fmt: skip
    res = run_study(iris, storage="memory", n_trials=10, epochs=5, space=space, sampler="random",
                    pruner="none", results_path=False)  # fmt: skip
    df = res.trials
    div = df[df["param_optimizer"] == "sgd"]
    assert len(div) > 0 and (div["state"] == "PRUNED").all()
    assert div["diverged_reason"].str.contains("at step").all()
    assert all(np.isnan(c[-1]) for c in div["curve"])  # a NaN reported where it diverged
    assert res.summary["diverged"] == len(div)
    assert res.best_params["optimizer"] == "adam"


def test_pruning_stops_bad_trials_early(iris):
    space = {"optimizer": ["sgd"], "lr": [1e-5, 1.0], "schedule": ["constant"], "warmup": 0}
    res = run_study(iris, storage="memory", n_trials=25, epochs=20, space=space, sampler="random",
                    pruner="median", results_path=False, retrain=False)  # fmt: skip
    pruned = res.trials[res.trials["state"] == "PRUNED"]
    assert len(pruned) >= 3
    assert (pruned[pruned["diverged_reason"].isna()]["epochs_run"] < 20).all()


def test_maximised_metric_and_regression_in_original_units():
    ds = load("diabetes", seed=0)
    res = run_study(ds, storage="memory", n_trials=4, epochs=5, objective="mse", results_path=False,
                    space={"optimizer": ["adam"], "lr": [1e-3, 1e-2], "schedule": ["constant"], "warmup": 0})  # fmt: skip
    assert res.direction == "minimize" and res.best_value > 100  # MSE in the target's units, not standardised
    assert res.best_val_metrics["mse"] == pytest.approx(res.best_value, rel=1e-5)
    clf = run_study("iris", storage="memory", n_trials=3, epochs=4, objective="accuracy", space=SMALL,
                    results_path=False)  # fmt: skip
    assert clf.direction == "maximize" and 0 <= clf.best_value <= 1
    with pytest.raises(ConfigError, match="does not apply to regression"):
        run_study(ds, storage="memory", n_trials=1, objective="accuracy")


def test_ctrl_c_keeps_finished_trials_and_fails_the_running_one(iris, monkeypatch):
    from lrsearch.search import objective

    calls = {"n": 0}
    real_train = objective.train

    def train_then_interrupt(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(objective, "train", train_then_interrupt)
    res = run_study(iris, storage="memory", n_trials=10, epochs=3, space=SMALL, results_path=False)
    assert res.interrupted and res.summary["interrupted"]
    states = Counter(res.trials["state"])
    assert states == {"COMPLETE": 3, "FAIL": 1} or states == Counter({"COMPLETE": 2, "PRUNED": 1, "FAIL": 1})
    assert res.best_result is None  # nothing retrained after Ctrl-C


def test_progress_callback_sees_every_trial(iris):
    seen = []
    run_study(iris, storage="memory", n_trials=4, epochs=3, space=SMALL, results_path=False, retrain=False,
              progress=seen.append)  # fmt: skip
    finished = [p.finished for p in seen]
    assert finished[0] >= 1 and finished == sorted(finished) and finished[-1] == 4 and seen[-1].target == 4
    assert seen[-1].best_value is not None and seen[-1].running == 0


@pytest.mark.slow
def test_two_jobs_honour_the_total_trial_count(iris, tmp_path, monkeypatch):
    import time

    from optuna.storages.journal import JournalFileBackend

    from lrsearch.search import objective

    real_train = objective.train
    path = tmp_path / "j.journal"
    me = str(os.getpid())

    def other_worker_has_a_trial() -> bool:
        study = optuna.load_study(study_name="j", storage=optuna.storages.JournalStorage(JournalFileBackend(str(path))))
        return any(t.user_attrs.get("worker", "").split(":")[1:2] not in ([me], []) for t in study.trials)

    def slow_train(*args, **kwargs):
        # this process's first trial waits (up to 60 s) until the loky worker has one of its own, however
        # long that worker takes to start; later ones are slowed so that it takes its share
        deadline = time.time() + 60
        while not waited and time.time() < deadline and not other_worker_has_a_trial():
            time.sleep(0.1)
        waited.append(True)
        time.sleep(0.2)
        return real_train(*args, **kwargs)

    waited: list[bool] = []
    monkeypatch.setattr(objective, "train", slow_train)
    res = run_study(iris, study_name="j", storage=path, n_jobs=2, n_trials=14, epochs=5,
                    space=SMALL, pruner="none", retrain=False)  # fmt: skip
    df = res.trials
    assert len(df) == 14 and set(df["state"]) == {"COMPLETE"}  # exactly the budget, nothing failed or left running
    assert df["worker"].nunique() == 2  # this process and the loky worker both ran trials
    assert res.study.user_attrs["lrsearch:workers"] == 2
    assert res.summary["n_jobs"] == 2 and res.summary["trials_this_run"] == 14
    # each worker had its own sampler seed: no configuration drawn twice
    assert df["param_lr"].nunique() == 14


@pytest.mark.slow
def test_finder_aimed_study_sets_bounds_and_enqueues_suggestions(iris):
    pytest.importorskip("lrsearch.finder")
    res = run_study(iris, storage="memory", n_trials=4, epochs=4, aim="finder", results_path=False,
                    space={"optimizer": ["adam", "sgd"], "schedule": ["constant", "cosine"]})  # fmt: skip
    assert [rt.optimizer for rt in res.range_tests] == ["adam", "sgd"]
    first = res.trials.iloc[:2]
    assert list(first["param_optimizer"]) == ["adam", "sgd"] and set(first["param_schedule"]) == {"constant"}
    for rt, lr in zip(res.range_tests, first["param_lr"]):
        low, high = rt.search_bounds
        assert tuple(res.summary["space"]["lr"][rt.optimizer]) == pytest.approx((low, high))
        assert lr == pytest.approx(min(max(rt.lr, low), high))


@pytest.mark.slow
def test_finder_aim_asks_for_a_rate_for_the_study_length(iris):
    """The range test's rate is the finder's answer for a training as long as the study's (not its default)."""
    from lrsearch.finder import find_lr

    kw = {"task": iris.task, "hidden": (64,), "optimizer": "adam", "batch_size": 32, "seed": 0}
    ref, default = find_lr(iris, epochs=300, **kw), find_lr(iris, **kw)
    assert ref.lr != pytest.approx(default.lr)  # otherwise this test could not tell the two apart
    res = run_study(iris, storage="memory", n_trials=1, epochs=300, aim="finder", results_path=False, retrain=False,
                    space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    assert res.range_tests[0].lr == pytest.approx(ref.lr)
    assert tuple(res.summary["space"]["lr"]["adam"]) == pytest.approx(ref.search_bounds)


@pytest.mark.slow
def test_more_jobs_than_trials_start_no_idle_workers(iris, tmp_path):
    """n_jobs=4 for 2 trials: one extra worker process is started and used, not three (no executor resize)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_study(iris, study_name="few", storage=tmp_path / "few.journal", n_jobs=4, n_trials=2, epochs=3,
                        space=SMALL, pruner="none", retrain=False, results_path=False)  # fmt: skip
    assert not [w for w in caught if "resize" in str(w.message)]
    assert res.summary["n_jobs"] == 2 and len(res.trials) == 2


@pytest.mark.slow
def test_worker_processes_ignore_ctrl_c_and_this_process_keeps_its_handler(iris):
    """A terminal's Ctrl-C reaches every process of the group: workers must not print tracebacks (they stop on
    the parent's stop file), while this process still turns Ctrl-C into KeyboardInterrupt."""
    import signal

    from lrsearch.search import workers

    before = signal.getsignal(signal.SIGINT)
    workers.worker_executor(2).shutdown(wait=True)  # a fresh pool, spawned by the code under test
    pool = workers.prestart_workers(2, iris, "float32")
    assert pool is not None and pool[1] == 1
    assert pool[0].submit(signal.getsignal, signal.SIGINT).result(timeout=60) == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is before
