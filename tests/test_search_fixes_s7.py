"""Session 7 fixes in the study: the last epoch's report and halving rungs, QMC's shared counter across workers,
the trial counts the terminal prints, and the core's defaults in a study's definition."""

from __future__ import annotations

import json
import math
import threading

import optuna
import pytest

from lrsearch.cli import main
from lrsearch.data import load
from lrsearch.exceptions import ConfigError
from lrsearch.search import run_study
from lrsearch.search.objective import make_objective
from lrsearch.search.samplers import halving_min_resource, make_pruner
from lrsearch.search.spec import spec_from_dict

optuna.logging.set_verbosity(optuna.logging.WARNING)

ONE = {"optimizer": ["adam"], "schedule": ["constant"], "warmup": 0}
PARAMS = {"optimizer": "adam", "lr_adam": 0.01, "schedule": "constant"}


@pytest.fixture(scope="module")
def iris():
    return load("iris", seed=0)


# -- 1. reports and pruning at the end of a trial ---------------------------------------------------------------


class _Recording(optuna.trial.FixedTrial):
    """A fixed trial that records its reports and pruning checks, and asks to be pruned at ``prune_at``."""

    def __init__(self, params, prune_at=()):
        super().__init__(params)
        self.steps, self.asked, self.prune_at = [], [], set(prune_at)

    def report(self, value, step):
        self.steps.append(step)

    def should_prune(self):
        self.asked.append(self.steps[-1])
        return self.steps[-1] in self.prune_at


@pytest.mark.parametrize("epochs, every, reported", [(10, 3, [3, 6, 9, 10]), (9, 3, [3, 6, 9]), (5, 5, [5])])
def test_the_last_epoch_is_reported_and_never_pruned(iris, epochs, every, reported):
    """report_every=3 over 10 epochs reported epochs 3, 6, 9 and never the 10th, whose value is the trial's; and a
    pruner that says 'prune' at the last report threw away a finished run (the median pruner did, on the default
    30 epochs reported every 3)."""
    spec = spec_from_dict({"study": {"epochs": epochs, "report_every": every}, "space": ONE})
    run = make_objective(iris, spec, spec.space)
    trial = _Recording(PARAMS, prune_at={epochs})
    value = run(trial)  # not pruned
    assert trial.steps == reported and trial.asked == reported[:-1]
    assert value == pytest.approx(float(trial.user_attrs["val_metrics"]["cross_entropy"]), rel=1e-5)
    early = _Recording(PARAMS, prune_at={reported[0]})
    if len(reported) > 1:  # an earlier report still prunes
        with pytest.raises(optuna.TrialPruned, match=f"after epoch {reported[0]}"):
            run(early)


def _pruning_steps(pruner, epochs, every):
    """The reports at which successive halving can prune: the first report at or past each rung, before the end."""
    reports = sorted({*range(every, epochs + 1, every), epochs})
    first, eta = pruner._min_resource, pruner._reduction_factor
    steps, k = [], 0
    while first * eta**k < epochs:
        step = next(s for s in reports if s >= first * eta**k)
        if step < epochs:
            steps.append(step)
        k += 1
    return steps


@pytest.mark.parametrize("epochs, every", [(10, 3), (30, 3), (30, 1), (27, 3), (20, 3), (100, 10), (12, 1)])
def test_halving_rungs_count_back_from_the_end_of_the_run(epochs, every):
    """Rungs at report_every * 3**k put the last one before the end at 9 of 10 or 27 of 30 epochs: trials pruned
    after nearly all their work. Now the last rung that prunes is at most two thirds into the run."""
    spec = spec_from_dict({"study": {"epochs": epochs, "report_every": every}, "space": ONE})
    sha = make_pruner("successive_halving", spec)
    steps = _pruning_steps(sha, epochs, every)
    assert steps and max(steps) <= epochs * 2 / 3 + every - 1, steps
    hyperband = make_pruner("hyperband", spec)
    assert (hyperband._min_resource, hyperband._max_resource) == (sha._min_resource, epochs)


def test_halving_min_resource_is_the_smallest_ladder_reaching_the_end():
    for epochs in range(1, 200):
        for every in range(1, epochs + 1):
            m = halving_min_resource(epochs, every)
            n = 1
            while m * 3**n < epochs:
                n += 1
            assert m >= 1 and (m - 1) * 3**n < epochs  # one epoch less and the ladder would stop short of the end


@pytest.mark.parametrize("pruner", ["successive_halving", "hyperband"])
def test_no_halving_trial_is_pruned_in_the_last_report_interval(iris, pruner):
    """10 epochs reported every 3: a third of the trials were pruned at epoch 9, after 90% of their work."""
    res = run_study(iris, storage="memory", n_trials=30, epochs=10, report_every=3, pruner=pruner, sampler="random",
                    retrain=False, results_path=False, space={**ONE, "optimizer": ["adam", "sgd"]})  # fmt: skip
    df = res.trials
    pruned, complete = df[df.state == "PRUNED"], df[df.state == "COMPLETE"]
    assert len(pruned) and (pruned.epochs_run <= 6).all(), sorted(pruned.epochs_run)
    assert all(c == [3, 6, 9, 10] for c in complete.curve_epochs)


def test_median_warm_up_with_report_every():
    """The median pruner judges no report before a fifth of the epochs, and does judge the first report past it."""
    for epochs in range(2, 61):
        for every in range(1, epochs + 1):
            spec = spec_from_dict({"study": {"epochs": epochs, "report_every": every}, "space": ONE})
            warm = make_pruner("median", spec)._n_warmup_steps
            judged = [s for s in range(every, epochs, every) if s >= warm]  # the last epoch is never judged
            assert all(s >= epochs / 5 for s in judged)  # session 8: was epochs / 5 - 1 (epoch 1 of 8 judged)
            assert judged == [s for s in range(every, epochs, every) if s >= max(every, math.ceil(epochs / 5))]


# -- 2. QMC's shared sequence with several workers ---------------------------------------------------------------


def test_parallel_workers_take_each_qmc_point_once(iris, tmp_path, monkeypatch):
    """Optuna reads the study's QMC counter and writes it back plus one with nothing around the pair: two workers
    (each with its own storage object on one journal, as two processes) took the same index and trained the same
    point. The window is widened here so that it is hit every time without the lock."""
    from optuna.storages.journal import JournalStorage

    from lrsearch.search.runner import _open_study
    from lrsearch.search.spec import spec_from_dict as build
    from lrsearch.search.storage import resolve_storage
    from lrsearch.search.workers import Job, work

    spec = build({"study": {"epochs": 1, "sampler": "qmc", "pruner": "none", "n_trials": 24}, "space": ONE})
    cfg = resolve_storage(tmp_path / "q.journal", "q")
    study, space, _, _ = _open_study(cfg.open(), cfg, "q", spec, iris, overwrite=False)
    read = JournalStorage.get_study_system_attrs

    def slow_read(self, study_id):
        attrs = read(self, study_id)
        threading.Event().wait(0.02)  # another worker reads the same counter meanwhile
        return attrs

    monkeypatch.setattr(JournalStorage, "get_study_system_attrs", slow_read)
    job = Job(iris, spec, space, cfg, "q", "run", spec.n_trials, None)
    errors = []

    def worker():
        try:
            work(job, raise_interrupt=False)
        except Exception as exc:  # pragma: no cover - shown below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len({t["user_attrs"].get("worker") for t in _trials(study)}) == 2
    lrs = [t["params"]["lr_adam"] for t in _trials(study)]
    assert len(lrs) == 24 and len(set(lrs)) == 24, sorted(lrs)


def _trials(study):
    return [{"params": t.params, "user_attrs": t.user_attrs} for t in study.get_trials(deepcopy=False)]


def test_two_worker_processes_on_a_qmc_study(iris, tmp_path, monkeypatch):
    """The same with two real worker processes (n_jobs=2): no point drawn twice. Without the lock 600 such trials
    held 5 to 8 repeats (this one catches the race most times; the test above, every time)."""
    import os
    import time

    from optuna.storages.journal import JournalFileBackend

    from lrsearch.search import objective

    real_train, path, me, waited = objective.train, tmp_path / "p.journal", str(os.getpid()), []

    def first_waits_for_the_other_worker(*args, **kwargs):
        # this process's first trial waits (up to 60 s) for the loky worker's first: both then draw side by side
        if not waited:
            waited.append(True)
            storage, deadline = optuna.storages.JournalStorage(JournalFileBackend(str(path))), time.time() + 60
            while time.time() < deadline:
                trials = optuna.load_study(study_name="p", storage=storage).trials
                if any(t.user_attrs.get("worker", "").split(":")[1:2] not in ([me], []) for t in trials):
                    break
                time.sleep(0.05)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(objective, "train", first_waits_for_the_other_worker)
    res = run_study(iris, study_name="p", storage=path, n_jobs=2, n_trials=160, epochs=1, sampler="qmc",
                    pruner="none", retrain=False, results_path=False, space=ONE)  # fmt: skip
    df = res.trials
    assert df["worker"].nunique() == 2 and len(df) == 160 and df["param_lr"].nunique() == 160


# -- 3. what "N of M trials" counts ------------------------------------------------------------------------------


def _study_args(tmp_path, *extra):
    return ["study", "--data", "iris", "--studies-dir", str(tmp_path), "--epochs", "2", "--optimizers", "adam",
            "--schedules", "constant", "--no-progress", *extra]  # fmt: skip


def test_the_summary_counts_done_trials_not_failed_ones(tmp_path, capsys, monkeypatch):
    """An interrupted study of 2 complete trials and 1 failed one said '3 of 10 trials': the failed trial counted
    as done, while the budget (and the progress line) counts only complete and pruned ones."""
    from lrsearch.search import objective

    real_train, calls = objective.train, []

    def interrupt_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(objective, "train", interrupt_third)
    assert main(_study_args(tmp_path, "--n-trials", "10", "--study-name", "f")) == 130
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("study f"))
    assert "; 2 of the 10 asked for done (2 complete, 0 pruned, 1 failed); failed trials do not count" in line, line
    saved = json.loads((tmp_path / "f.json").read_text())["summary"]
    assert (saved["done"], saved["complete"], saved["pruned"], saved["failed"], saved["n_trials"]) == (2, 2, 0, 1, 3)


def test_summary_json_and_progress_line_agree(tmp_path, capsys, monkeypatch):
    from lrsearch.cli import study_cmd
    from lrsearch.search.results import StudyProgress

    seen = []
    monkeypatch.setattr(study_cmd.sys.stderr, "isatty", lambda: True, raising=False)
    real = study_cmd._ProgressLine.__call__
    monkeypatch.setattr(study_cmd._ProgressLine, "__call__", lambda self, p: (seen.append(p), real(self, p)))
    assert main([a for a in _study_args(tmp_path, "--n-trials", "3") if a != "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert ": done; 3 of 3 trials done (3 complete, 0 pruned)" in out
    assert "3 of 3 trials done (3 complete, 0 pruned, 0 running)" in err and seen[-1].finished == 3
    saved = json.loads((tmp_path / "iris.json").read_text())["summary"]
    assert saved["done"] == 3 == saved["complete"] + saved["pruned"]
    # the progress line lists failed trials too (it showed '[2/10] 2 complete, 0 pruned, 1 running')
    line = study_cmd._ProgressLine("val_loss")
    line(StudyProgress(10, 2, 0, 0, 1, 1, 0.5, 1, 3.0, 2, None))
    err = capsys.readouterr().err
    assert "2 of 10 trials done (2 complete, 0 pruned, 1 failed, 1 running)" in err, err


# -- 4. the core's defaults in a study's definition --------------------------------------------------------------


def test_a_changed_core_default_is_a_different_definition(iris, tmp_path, monkeypatch):
    """The warm-up's start factor is the core's default unless the space sets it; it was left out of the
    definition, so a study resumed after the default changed (0 -> 1/3 once) mixed trials of both silently."""
    from lrsearch.nn import schedules

    kw = {"study_name": "d", "storage": tmp_path / "d.journal", "epochs": 3, "n_trials": 2, "retrain": False,
          "space": {"optimizer": ["adam"], "schedule": ["cosine"], "warmup": [0, 1]}}  # fmt: skip
    run_study(iris, **kw)
    monkeypatch.setitem(schedules._COMMON, "warmup_start_factor", 0.5)
    with pytest.raises(ConfigError, match=r"different definition \(defaults\.schedule\.cosine\.warmup_start_factor: "
                                          r"0\.333\d* -> 0\.5"):  # fmt: skip
        run_study(iris, **{**kw, "n_trials": 3})
    monkeypatch.undo()
    assert run_study(iris, **{**kw, "n_trials": 3}).summary["trials_this_run"] == 1
    # set in the space, it is part of the space (it was already)
    space = {**kw["space"], "cosine": {"warmup_start_factor": 0.5}}
    with pytest.raises(ConfigError, match=r"space\.cosine\.warmup_start_factor: None -> 0\.5"):
        run_study(iris, **{**kw, "space": space})


def test_a_study_created_before_the_defaults_were_recorded_still_resumes(iris, tmp_path):
    """A study whose stored definition has no core defaults (created before session 7) resumes as it did, and is
    still refused on a real difference, listed without the defaults it never recorded."""
    from lrsearch.search.space import _hash
    from lrsearch.search.workers import ATTR

    kw = {"study_name": "o", "storage": tmp_path / "o.journal", "epochs": 3, "n_trials": 2, "retrain": False,
          "space": ONE}  # fmt: skip
    first = run_study(iris, **kw)
    old = {k: v for k, v in first.study.user_attrs[ATTR + "definition"].items() if k != "defaults"}
    first.study.set_user_attr(ATTR + "definition", old)
    first.study.set_user_attr(ATTR + "fingerprint", _hash(old))
    assert run_study(iris, **{**kw, "n_trials": 3}).summary["trials_this_run"] == 1
    with pytest.raises(ConfigError) as err:
        run_study(iris, **{**kw, "epochs": 4})
    assert "(epochs: 3 -> 4)" in str(err.value) and "defaults" not in str(err.value)


def test_the_definition_leaves_out_what_the_space_sets():
    spec = spec_from_dict({"study": {"epochs": 10}, "space": {
        "optimizer": ["adam", "momentum", "adamw"], "schedule": ["cosine", "one_cycle"], "beta2": True,
        "momentum": True, "adamw_weight_decay": True, "cosine": {"warmup_start_factor": 0.5}}})  # fmt: skip
    d = json.loads(json.dumps(spec.definition()))["defaults"]  # as stored: JSON
    assert "betas" not in d["optimizer"]["adam"] and d["optimizer"]["adam"]["eps"] == 1e-8
    assert "momentum" not in d["optimizer"]["momentum"] and "weight_decay" not in d["optimizer"]["adamw"]
    assert d["optimizer"]["momentum"]["weight_decay"] == 0.0
    assert "warmup_start_factor" not in d["schedule"]["cosine"] and "eta_min" not in d["schedule"]["cosine"]
    assert "warmup" not in d["schedule"]["cosine"] and d["schedule"]["one_cycle"]["warmup"] == 0
    assert d["schedule"]["one_cycle"]["final_div_factor"] == 1e4
