"""Study, storage and CLI inputs that used to crash, mislead or pass silently (session 4 review)."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path

import numpy as np
import optuna
import pytest

import lrsearch.data
import lrsearch.exceptions
from lrsearch.cli import main
from lrsearch.cli._common import check_output_path
from lrsearch.exceptions import ConfigError
from lrsearch.nn import train
from lrsearch.search import run_study
from lrsearch.search.space import default_space, space_from_dict
from lrsearch.search.storage import StorageError, resolve_storage

FAST = ["--epochs", "2", "--optimizers", "adam", "--schedules", "constant", "--no-progress"]


def test_a_file_that_is_not_a_journal_is_refused_as_storage(tmp_path, capsys):
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,y\n1,2,0\n3,4,1\n")
    code = main(["study", "--data", "iris", "--n-trials", "1", "--storage", str(csv), *FAST])
    err = capsys.readouterr().err
    assert code == 2
    assert "is not an Optuna journal file" in err and "Traceback" not in err
    assert csv.read_text() == "a,b,y\n1,2,0\n3,4,1\n"  # untouched
    assert main(["report", "--study-name", "iris", "--storage", str(csv), "--out", str(tmp_path / "r.html")]) == 2
    assert "is not an Optuna journal file" in capsys.readouterr().err
    with pytest.raises(StorageError, match="not an Optuna journal"):
        resolve_storage(str(csv), "s")
    (tmp_path / "junk.journal").write_text("not json\n")  # the default location holds something else
    with pytest.raises(StorageError, match="not an Optuna journal"):
        resolve_storage(None, "junk", studies_dir=tmp_path)


def test_an_empty_or_real_journal_is_accepted(tmp_path):
    empty = tmp_path / "new.journal"
    empty.write_text("")
    assert resolve_storage(str(empty), "s").kind == "journal"
    res = run_study("iris", n_trials=1, epochs=1, storage=str(tmp_path / "s.journal"), results_path=False,
                    retrain=False, space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    assert res.summary["complete"] + res.summary["pruned"] == 1
    assert resolve_storage(str(tmp_path / "s.journal"), "s").kind == "journal"  # its own journal reads fine


def test_a_negative_heartbeat_is_bad_input(capsys):
    code = main(["study", "--data", "iris", "--n-trials", "1", "--storage", "memory", "--heartbeat", "-1", *FAST])
    err = capsys.readouterr().err
    assert code == 2
    assert "heartbeat_interval must be a whole number of seconds" in err and "Traceback" not in err
    with pytest.raises(StorageError, match="heartbeat"):
        resolve_storage("sqlite:///x.db", "s", heartbeat_interval=1.5)


def test_run_study_keeps_optunas_info_lines_off_the_terminal(capsys):
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)  # Optuna's own default
    try:
        run_study("iris", n_trials=2, epochs=1, storage="memory", results_path=False, retrain=False,
                  space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
        assert optuna.logging.get_verbosity() == optuna.logging.INFO  # restored
    finally:
        optuna.logging.set_verbosity(before)
    err = capsys.readouterr().err
    assert "A new study created" not in err and "finished with value" not in err


def test_a_resumed_study_asked_for_fewer_trials_says_so(tmp_path, capsys):
    args = ["study", "--data", "iris", "--studies-dir", str(tmp_path), *FAST]
    assert main([*args, "--n-trials", "3"]) == 0
    capsys.readouterr()
    assert main([*args, "--n-trials", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 of 2" not in out
    assert "3 trials (it already held more than the 2 asked for)" in out


def test_settings_no_trial_uses_are_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        default_space(10, optimizers=["adam"], search=["momentum"])
    assert "'momentum' applies only to momentum/nesterov" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        space_from_dict({"optimizer": ["adam"], "lr": {"sgd": [1e-3, 1e-1]}, "beta1": True, "weight_decay": True})
    assert "space.lr.sgd" in caplog.text and "'beta1'" not in caplog.text and "'weight_decay'" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        default_space(10, optimizers=["momentum", "adam"], search=["momentum", "beta1"])
    assert caplog.text == ""  # each applies to one of the optimizers


def test_layer_rates_that_freeze_every_layer_are_refused():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ConfigError, match="freeze every layer"):
        train(X, y, hidden=(4,), layer_lrs=[0.0, 0.0], epochs=1)
    res = train(X, y, hidden=(4,), layer_lrs=[0.0, 1.0], epochs=1)  # one frozen layer is fine
    assert res.status == "completed"


def test_internal_error_hint_depends_on_verbosity(monkeypatch, capsys):
    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(lrsearch.data, "load", boom)
    assert main(["train", "--data", "iris", "--epochs", "1"]) == 1
    # the flag goes before the command (a subcommand does not take it): the hint shows where
    assert "boom (run 'lrsearch -vv train ...' for details)" in capsys.readouterr().err
    assert main(["-vv", "train", "--data", "iris", "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "-vv train" not in err and "boom (the traceback is above)" in err


def test_output_paths_that_are_not_regular_files_are_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        check_output_path(str(fifo), "--results")
    check_output_path(str(tmp_path / "new" / "r.json"), "--results")  # a new file in a new folder is fine


def test_save_json_writes_into_a_pipe_instead_of_replacing_it(tmp_path):
    res = run_study("iris", n_trials=1, epochs=1, storage="memory", results_path=False, retrain=False,
                    space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    res.save_json(fifo)
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a pipe, not a file renamed over it
    assert json.loads(got[0])["study_name"] == res.study_name


def test_values_the_float32_cast_would_overflow_are_named_not_called_non_finite():
    import warnings

    X = np.random.default_rng(0).normal(size=(20, 3))
    X[3, 1] = 1e39
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning reaches the user
        with pytest.raises(lrsearch.exceptions.DataError, match=r"1e\+39 at row 3, column 1 is too large for float32"):
            train(X, np.arange(20) % 2, hidden=(4,), epochs=1)
        with pytest.raises(lrsearch.exceptions.DataError, match="regression targets: the value 1e\\+39"):
            train(np.ones((20, 3)), np.full(20, 1e39), task="regression", hidden=(4,), epochs=1)
    train(X, np.arange(20) % 2, hidden=(4,), epochs=1, dtype="float64")  # fits in float64
    X[3, 1] = np.nan
    with pytest.raises(lrsearch.exceptions.DataError, match="non-finite values"):
        train(X, np.arange(20) % 2, hidden=(4,), epochs=1)


def test_a_study_whose_report_cannot_be_written_keeps_its_results_and_exits_2(tmp_path, monkeypatch, capsys):
    import lrsearch.cli.study_cmd as study_cmd

    def fail(path, result):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(study_cmd, "_write_report", fail)
    code = main(["study", "--data", "iris", "--studies-dir", str(tmp_path), "--n-trials", "2",
                 "--report", str(tmp_path / "r.html"), *FAST])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert "best trial #" in captured.out  # the results were printed
    assert "could not write the report" in captured.err and "the results above are kept" in captured.err
    assert (tmp_path / "iris.json").exists()


@pytest.mark.parametrize("folder", ["/proc", "/sys"])
def test_an_output_folder_nobody_can_write_is_refused_up_front_even_for_root(folder):
    if not os.path.isdir(folder):
        pytest.skip(f"no {folder} here")
    with pytest.raises(ConfigError, match="is not writable"):
        check_output_path(f"{folder}/x.html", "--report")


def test_a_report_ignores_results_saved_by_a_same_named_study_in_another_storage(tmp_path, monkeypatch, capsys,
                                                                                  caplog):  # fmt: skip
    monkeypatch.chdir(tmp_path)  # default places: studies/iris.journal, studies/iris.json
    assert main(["study", "--data", "iris", "--n-trials", "2", *FAST]) == 0
    saved = tmp_path / "studies" / "iris.json"
    assert json.loads(saved.read_text())["dataset"]["task"] == "classification"
    db = f"sqlite:///{tmp_path / 's.db'}"
    regression = ["study", "--data", "iris", "--task", "regression", "--storage", db, "--n-trials", "2", *FAST]
    # the same default file: since session 7 (review) the database's study writes beside it, named after its
    # database, instead of over it (before: silently over it; earlier in session 7: refused)
    assert main(regression) == 0 and "results: studies/s-iris.json" in capsys.readouterr().out
    assert json.loads(saved.read_text())["dataset"]["task"] == "classification"  # kept
    assert json.loads((tmp_path / "studies" / "s-iris.json").read_text())["dataset"]["task"] == "regression"
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        assert main(["report", "--study-name", "iris", "--out", "j.html"]) == 0
    assert "another study" not in caplog.text and "classification" in (tmp_path / "j.html").read_text()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lrsearch"):  # each report reads its own study's file
        assert main(["report", "--study-name", "iris", "--storage", db, "--out", "d.html"]) == 0
    assert "another study" not in caplog.text
    assert "classification" not in (tmp_path / "d.html").read_text()


def test_an_aimed_study_smaller_than_its_queue_runs_the_best_probed_first_and_says_so(tmp_path, capsys, caplog):
    """n_trials below the finder's first trials (one per optimizer): the summary does not claim the study held
    more than asked, a warning names the optimizers left queued, and the trials that ran are the ones whose
    probes reached the lowest held-out loss."""
    import json

    args = ["study", "--data", "iris", "--studies-dir", str(tmp_path), "--epochs", "2", "--schedules", "constant",
            "--no-progress", "--n-trials", "2", "--aim", "finder", "--json"]  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert "stay queued" in caplog.text and "n_trials=2" in caplog.text
    ran = [t["param_optimizer"] for t in out["trials"] if t["state"] == "COMPLETE"]
    probe = {rt["optimizer"]: rt for rt in out["range_tests"]}
    best = sorted(probe, key=lambda o: probe[o]["probe_loss"] if probe[o]["probe_loss"] is not None else np.inf)
    assert len(probe) == 7 and ran == best[:2], (ran, best)
    assert main(args[:-1]) == 0  # the text summary of the same study, resumed with the same budget
    text = capsys.readouterr().out
    assert "already held more" not in text and "2 of the 2 asked for" in text


def test_a_spec_finds_its_data_beside_it(tmp_path, monkeypatch):
    """data = "../x.csv" written next to the spec: read from the spec's folder when the working directory has no
    such file; a path that exists from the working directory wins."""
    from lrsearch.search.spec import load_spec

    rng = np.random.default_rng(0)
    (tmp_path / "specs").mkdir()
    rows = "\n".join(f"{a:.3f},{b:.3f},{int(a > 0)}" for a, b in rng.normal(size=(30, 2)))
    (tmp_path / "x.csv").write_text("a,b,y\n" + rows + "\n")
    spec_path = tmp_path / "specs" / "s.toml"
    spec_path.write_text('[study]\ndata = "../x.csv"\n')
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert Path(load_spec(spec_path).data).resolve() == (tmp_path / "x.csv").resolve()
    monkeypatch.chdir(tmp_path / "specs")  # from here "../x.csv" exists: kept as written
    assert load_spec(spec_path).data == "../x.csv"


def test_the_journal_lock_points_at_an_absolute_path(tmp_path, monkeypatch):
    """Optuna's journal lock is a symlink to the journal, made beside it: a relative target dangled (and Optuna's
    stale-lock release then spun on it for good after a Ctrl-C)."""
    from lrsearch.search.storage import resolve_storage

    monkeypatch.chdir(tmp_path)
    storage = resolve_storage("studies/x.journal", "x").open()
    backend = storage._backend
    assert os.path.isabs(backend._file_path) and backend._file_path == str(tmp_path / "studies" / "x.journal")


def test_ctrl_c_waits_for_a_journal_write_to_end():
    import signal

    from lrsearch.search.storage import _sigint_deferred

    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("the rest of the write")
    assert reached == ["the rest of the write"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with _sigint_deferred():  # nothing pending: nothing raised
        pass


def test_a_ctrl_c_swallowed_by_a_callback_still_stops_the_study(monkeypatch):
    """A KeyboardInterrupt raised inside a ctypes callback is printed and dropped; the Ctrl-C was still noted,
    and the trial loop stops before its next trial, as for any Ctrl-C."""
    import lrsearch.search.objective as objective
    from lrsearch.search import run_study
    from lrsearch.search.workers import SIGINT_NOTED

    real, calls = objective.train, []

    def train_then_swallowed_ctrl_c(*args, **kwargs):
        calls.append(1)
        out = real(*args, **kwargs)
        if len(calls) == 2:
            SIGINT_NOTED.set()  # what the handler does before its KeyboardInterrupt got lost
        return out

    monkeypatch.setattr(objective, "train", train_then_swallowed_ctrl_c)
    space = {"optimizer": ["adam"], "schedule": ["constant"], "warmup": 0}
    res = run_study("iris", storage="memory", n_trials=10, epochs=2, space=space, results_path=False,
                    retrain=False)  # fmt: skip
    assert res.interrupted and len(calls) == 2 and res.summary["complete"] == 2
    res = run_study("iris", storage="memory", n_trials=2, epochs=2, space=space, results_path=False, retrain=False)
    assert not res.interrupted and res.summary["complete"] == 2  # a new run starts afresh


def test_a_dangling_journal_lock_is_removed_on_open(tmp_path, caplog):
    from lrsearch.search.storage import resolve_storage

    journal = tmp_path / "x.journal"
    os.symlink("studies/x.journal", f"{journal}.lock")  # what a relative lock left behind after a Ctrl-C
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        resolve_storage(str(journal), "x").open()
    assert not os.path.lexists(f"{journal}.lock") and "points at nothing" in caplog.text


def test_ctrl_c_can_still_interrupt_a_wait_for_the_journal_lock(tmp_path):
    """The deferral covers the write and the release, not the wait for Optuna's lock."""
    import signal

    from lrsearch.search.storage import resolve_storage

    journal = tmp_path / "w.journal"
    storage = resolve_storage(str(journal), "w").open()
    backend = storage._backend
    os.symlink(str(journal), f"{journal}.lock")  # a live-looking lock someone else holds

    previous = signal.signal(signal.SIGALRM, lambda *a: os.kill(os.getpid(), signal.SIGINT))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            backend.append_logs([{"op_code": 0, "worker_id": "t"}])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.unlink(f"{journal}.lock")


def test_a_real_ctrl_c_during_a_study_is_noted():
    """sigint_noted's handler records the Ctrl-C before raising, so a swallowed KeyboardInterrupt still counts."""
    import signal

    from lrsearch.search.workers import SIGINT_NOTED, sigint_noted

    with sigint_noted():
        assert not SIGINT_NOTED.is_set()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs at the next bytecode boundary
                pass
        assert SIGINT_NOTED.is_set()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- session 6 review: spaces that passed validation and stopped the study later --------------------------------------


def test_every_choice_of_a_schedule_parameter_is_checked_up_front():
    """Only a Choice's first two values were checked: a third bad one stopped the study at the first trial drawing
    it."""
    with pytest.raises(ConfigError, match="step: .*gamma"):
        space_from_dict({"schedule": ["step"], "step": {"gamma": {"choices": [0.5, 0.6, -1.0]}}})
    with pytest.raises(ConfigError, match="plateau: .*patience"):
        space_from_dict({"schedule": ["plateau"], "plateau": {"patience": {"choices": [1, 2, -3]}}})
    space_from_dict({"schedule": ["step"], "step": {"gamma": {"choices": [0.5, 0.6, 0.9]}}})  # all good: accepted


def test_a_momentum_nesterov_cannot_use_is_refused_when_nesterov_is_searched():
    with pytest.raises(ConfigError, match="nesterov momentum: .*momentum > 0"):
        space_from_dict({"optimizer": ["adam", "nesterov"], "momentum": 0.0})
    with pytest.raises(ConfigError, match="nesterov momentum"):
        space_from_dict({"optimizer": ["nesterov"], "momentum": {"choices": [0.0, 0.9]}})
    space_from_dict({"optimizer": ["adam", "momentum"], "momentum": 0.0})  # plain momentum takes 0


@pytest.mark.parametrize("sampler,warned", [("gp", True), ("cmaes", True), ("qmc", True), ("tpe", False)])
def test_samplers_that_cannot_model_a_conditional_space_say_so(sampler, warned):
    from lrsearch.search.samplers import sampler_notes

    notes = sampler_notes(sampler, ["adam", "sgd"], ["constant"])
    assert bool(notes) == warned
    if warned:
        assert sampler in notes[0] and "use sampler 'tpe'" in notes[0]
    assert sampler_notes(sampler, ["adam"], ["cosine"]) == []  # one optimizer and one schedule: all modelled


def test_run_study_builds_a_spec_files_space_for_its_epochs_override_as_the_cli_does(tmp_path):
    """epochs=5 on a 30-epoch spec kept the 30-epoch space (warm-up to 3, step sizes to 15) in Python only, so a
    study the CLI created was refused when resumed from Python with the same settings."""
    from lrsearch.search.runner import _resolve_spec
    from lrsearch.search.spec import spec_from_sources

    spec = tmp_path / "s.toml"
    spec.write_text('[study]\ndata = "iris"\nepochs = 30\n')
    api = _resolve_spec(str(spec), {"epochs": 5})
    cli = spec_from_sources(spec, {"study.epochs": 5})
    assert api.epochs == cli.epochs == 5
    assert api.space.to_dict() == cli.space.to_dict()
    assert api.space.to_dict() != _resolve_spec(str(spec), {}).space.to_dict()  # the override changed the space
    as_dict = _resolve_spec({"study": {"data": "iris", "epochs": 30}}, {"epochs": 5})
    assert as_dict.space.to_dict() == cli.space.to_dict()


def test_a_changed_optimizer_list_is_named_first_in_the_definition_diff():
    from lrsearch.search.runner import _diff

    old = {"space": {"lr": {o: [1e-4, 1.0] for o in "abcde"}, "optimizer": list("abcde")}}
    new = {"space": {"lr": {"a": [1e-4, 1.0]}, "optimizer": ["a"]}}
    assert _diff(old, new).startswith("space.optimizer: ['a', 'b', 'c', 'd', 'e'] -> ['a']")


def test_an_aimed_first_trial_that_fails_is_queued_again():
    """A Ctrl-C or a dead worker on a journal failed an aimed first trial, and the range test's rate was lost: the
    study sampled a new trial in its place."""
    from optuna.trial import TrialState

    from lrsearch.search.workers import fail_and_requeue

    study = optuna.create_study()
    study.enqueue_trial({"x": 0.25}, user_attrs={"aimed_by": "finder"})
    aimed = study.ask()
    aimed.suggest_float("x", 0, 1)
    fail_and_requeue(study, aimed.number)
    retry = study.ask()
    assert retry.suggest_float("x", 0, 1) == 0.25 and retry.user_attrs["retry_of"] == aimed.number
    sampled = study.ask()
    sampled.suggest_float("x", 0, 1)
    fail_and_requeue(study, sampled.number)  # a sampled trial is only failed: the study samples anew
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.FAIL, TrialState.RUNNING, TrialState.FAIL]
    # a second process finding the same failed trial queues nothing more
    fail_and_requeue(study, aimed.number)
    assert not study.get_trials(deepcopy=False, states=(TrialState.WAITING,))


def test_an_aimed_trial_that_keeps_failing_is_requeued_at_most_twice():
    from optuna.trial import TrialState

    from lrsearch.search.workers import MAX_REQUEUE, fail_and_requeue

    study = optuna.create_study()
    study.enqueue_trial({"x": 0.5}, user_attrs={"aimed_by": "finder"})
    for _ in range(MAX_REQUEUE + 2):
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if not waiting:
            break
        trial = study.ask()
        trial.suggest_float("x", 0, 1)
        fail_and_requeue(study, trial.number)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.FAIL] * (MAX_REQUEUE + 1)


def test_a_rate_range_of_one_value_still_fills_param_lr():
    """low == high is not sampled (no lr_adam parameter): the trials table took its rate as missing."""
    res = run_study("iris", None, storage="memory", n_trials=4, epochs=1, retrain=False, results_path=False,
                    space={"optimizer": ["adam"], "lr": {"adam": [2e-3, 2e-3]}, "schedule": ["constant"]})  # fmt: skip
    assert (res.trials["param_lr"] == 2e-3).all()
    assert res.best_config["lr"] == 2e-3


def test_a_resumed_aimed_study_keeps_its_range_tests_in_the_results(tmp_path):
    """Resuming ran no range test and rewrote the results JSON with none: later reports lost them."""
    journal = str(tmp_path / "a.journal")
    common = dict(storage=journal, epochs=2, aim="finder", retrain=False, hidden=[8],
                  space={"optimizer": ["adam", "sgd"], "schedule": ["constant"]})  # fmt: skip
    first = run_study("iris", None, n_trials=3, results_path=str(tmp_path / "r1.json"), **common)
    second = run_study("iris", None, n_trials=5, results_path=str(tmp_path / "r2.json"), **common)
    assert first.range_tests and not second.range_tests  # the resume ran none
    saved = json.loads((tmp_path / "r2.json").read_text())["range_tests"]
    assert [rt["optimizer"] for rt in saved] == [rt.optimizer for rt in first.range_tests]
    assert saved == json.loads((tmp_path / "r1.json").read_text())["range_tests"]


def test_a_dead_machines_last_trial_is_waited_for_and_retried(tmp_path):
    """A machine killed near the end left its trial RUNNING: the others stopped as soon as the budget counted it,
    and nothing failed or retried it (the guide promises no trial stays RUNNING)."""
    import time

    from optuna.storages import RDBStorage
    from optuna.trial import TrialState

    url = f"sqlite:///{tmp_path / 's.db'}"
    common = dict(storage=url, epochs=1, retrain=False, results_path=False, heartbeat_interval=1,
                  space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    run_study("iris", None, n_trials=2, **common)
    storage = RDBStorage(url, heartbeat_interval=1, grace_period=3)
    study = optuna.load_study(study_name="iris", storage=storage)
    dead = study.ask()  # a trial of a machine that then died: one heartbeat, never another
    storage.record_heartbeat(dead._trial_id)
    t0 = time.time()
    res = run_study("iris", None, n_trials=3, **common)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states.count(TrialState.RUNNING) == 0 and states[dead.number] == TrialState.FAIL
    assert states.count(TrialState.COMPLETE) == 3 and res.summary["complete"] == 3
    assert time.time() - t0 >= 2  # it waited for the heartbeat to go stale


def test_overwrite_refuses_to_delete_a_study_that_another_machine_runs(tmp_path):
    """A second machine started with the same --overwrite command deleted the running study (the first died
    with KeyError: 'Record does not exist.')."""
    import socket

    journal = str(tmp_path / "o.journal")
    common = dict(storage=journal, epochs=1, retrain=False, results_path=False,
                  space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    run_study("iris", None, n_trials=1, **common)
    from lrsearch.search.storage import resolve_storage

    study = optuna.load_study(study_name="iris", storage=resolve_storage(journal, "iris").open())
    live = study.ask()  # a trial a live worker runs: this very process
    live.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}:1")
    with pytest.raises(ConfigError, match="while 1 of its trials run"):
        run_study("iris", None, n_trials=2, overwrite=True, **common)
    assert len(study.get_trials(deepcopy=False)) == 2  # untouched
    study.tell(live, 0.5)
    res = run_study("iris", None, n_trials=1, overwrite=True, **common)  # nothing runs now: deleted and rerun
    assert len(res.trials) == 1


def test_the_wait_at_the_budget_is_bounded_and_overwrite_ignores_trials_nobody_runs(tmp_path):
    """A RUNNING trial that never recorded a heartbeat is never found stale: the wait for it hung for ever, and
    --overwrite refused for ever over trials of dead or unrecorded workers."""
    import time

    from optuna.storages import RDBStorage
    from optuna.trial import TrialState

    url = f"sqlite:///{tmp_path / 's.db'}"
    common = dict(storage=url, epochs=1, retrain=False, results_path=False, heartbeat_interval=1,
                  space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    run_study("iris", None, n_trials=1, **common)
    study = optuna.load_study(study_name="iris", storage=RDBStorage(url))
    silent = study.ask()  # RUNNING, no heartbeat, no worker: nothing will ever end it
    t0 = time.time()
    run_study("iris", None, n_trials=2, **common)
    assert time.time() - t0 < 30  # grace (3 s) + two heartbeats, not for ever
    assert study.get_trials(deepcopy=False)[silent.number].state == TrialState.RUNNING
    dead = study.ask()
    dead.set_user_attr("worker", f"{__import__('socket').gethostname()}:999999999:0")  # a gone local process
    res = run_study("iris", None, n_trials=1, overwrite=True, **common)  # neither blocks the overwrite
    assert len(res.trials) == 1


def test_a_worker_process_that_dies_does_not_end_the_study(tmp_path, caplog):
    """A worker killed outright (kill -9, the OOM killer) made the machine stop with 'internal error:
    TerminatedWorkerError' and no summary; this process now finishes the study alone."""
    import dataclasses

    class Deadly(str):  # unpickled in the worker process (with the data set), it ends that process at once
        def __reduce__(self):
            return (os._exit, (1,))

    ds = dataclasses.replace(lrsearch.data.load("iris", seed=0), name=Deadly("iris"))
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        res = run_study(ds, None, storage=str(tmp_path / "k.journal"), study_name="k", n_trials=6, epochs=2, n_jobs=2,
                        retrain=False, results_path=False, space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    assert "a worker process died (TerminatedWorkerError)" in caplog.text and not res.interrupted
    assert res.summary["complete"] + res.summary["pruned"] == 6
    # the pool is made anew for the next parallel study
    again = run_study("iris", None, storage=str(tmp_path / "a.journal"), n_trials=4, epochs=1, n_jobs=2,
                      retrain=False, results_path=False, space={"optimizer": ["adam"], "schedule": ["constant"]})  # fmt: skip
    assert again.summary["complete"] + again.summary["pruned"] == 4 and again.summary["n_jobs"] == 2
