"""recommend(): the choice is the measured best, reproducible, and explained."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lrsearch.cli import main
from lrsearch.data import load
from lrsearch.evaluation import fit_dataset
from lrsearch.exceptions import ConfigError
from lrsearch.recommend import recommend


@pytest.fixture(scope="module")
def iris():
    return load("iris", seed=0)


@pytest.fixture(scope="module")
def rec(iris):
    return recommend(iris, optimizers=["sgd", "adam"], epochs=15, repeats=2)


def test_recommendation_is_the_best_measured_candidate(rec, iris):
    """The two best of the seed-0 trainings are trained on seeds 1 and 2 too; the better mean is chosen."""
    finite = sorted((c for c in rec.candidates if math.isfinite(c.val_loss)), key=lambda c: c.val_loss)
    assert len(rec.candidates) == 6  # 2 optimizers x constant / cosine / one-cycle
    means = []
    for c in finite[:2]:  # the reference: train each again, independently of recommend
        losses = [fit_dataset(iris, optimizer=c.optimizer, lr=c.lr, schedule=c.schedule, schedule_params=c.schedule_params,
                              seed=s, hidden=(64,), activation="relu", batch_size=32, epochs=15).result.val_loss[-1]
                  for s in (0, 1, 2)]  # fmt: skip
        means.append((float(np.mean(losses)), c, losses))
    _, chosen, losses = min(means, key=lambda m: m[0])
    assert (rec.optimizer, rec.schedule, rec.lr) == (chosen.optimizer, chosen.schedule, chosen.lr)
    assert rec.expected_score["val_loss"] == pytest.approx(chosen.val_loss)  # seed 0's, reproducible
    np.testing.assert_allclose(rec.seed_check["best"], losses, rtol=1e-6)
    assert rec.seed_check["seeds"] == [0, 1, 2]
    assert any("over training seeds 0 to 2" in e for e in rec.evidence)
    assert {rt.optimizer for rt in rec.range_tests} == {"sgd", "adam"}
    assert rec.evidence and rec.optimizer in rec.evidence[0]


def test_a_target_nothing_predicts_is_said_to_be_unlearned():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 5)), rng.integers(0, 2, 300)  # labels independent of X
    rec = recommend(X, y, optimizers=["adam"], epochs=5, repeats=1, hidden=(8,))
    assert rec.evidence[0].startswith("warning: the best candidate's validation loss")
    assert "no better than a constant answer's" in rec.evidence[0]
    out = rec.to_dict()
    assert "reason" in out["candidates"][0] and out["seed"] == 0 and len(out["seed_check"]["best"]) == 3


def test_train_kwargs_reproduce_the_expected_score(rec, iris):
    assert rec.train_kwargs()["seed"] == 0  # the seed is part of the configuration it measured
    fit = fit_dataset(iris, **rec.train_kwargs())
    assert fit.result.val_loss[-1] == pytest.approx(rec.expected_score["val_loss"], rel=1e-6)
    assert fit.test_metrics["accuracy"] == pytest.approx(rec.test_metrics["accuracy"])


def test_bad_arguments(iris):
    with pytest.raises(ConfigError, match="method"):
        recommend(iris, method="oracle")
    with pytest.raises(ConfigError, match="optimizers"):
        recommend(iris, optimizers=["adamx"])
    with pytest.raises(ConfigError, match="optimizers is empty"):
        recommend(iris, optimizers=[])


def test_cli_recommend_json(capsys):
    code = main(["recommend", "--data", "iris", "--optimizers", "adam", "--epochs", "10", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["optimizer"] == "adam" and out["lr"] > 0 and out["schedule"] in ("constant", "cosine", "one_cycle")
    assert len(out["candidates"]) == 3


def test_cli_recommend_all_optimizers_compares_every_optimizer_of_the_core(capsys):
    """`--optimizers all`, as `lrsearch find --optimizer all` takes it: every optimizer, three schedules each."""
    from lrsearch.nn import OPTIMIZERS

    code = main(["recommend", "--data", "iris", "--optimizers", "all", "--epochs", "2", "--hidden", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted({c["optimizer"] for c in out["candidates"]}) == sorted(OPTIMIZERS)
    assert len(out["candidates"]) == 3 * len(OPTIMIZERS)


def test_cli_recommend_bad_optimizer_exits_2(capsys):
    assert main(["recommend", "--data", "iris", "--optimizers", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_every_candidate_diverging_is_reported_with_each_reason(iris, monkeypatch, capsys):
    """Rates far past the edge (a stand-in for data no rate can train): exit 2 naming what each candidate did."""
    import dataclasses

    from lrsearch import finder

    real = finder.find_lr

    def past_the_edge(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), lr=1e6, one_cycle_range=(4e4, 1e7))

    monkeypatch.setattr(finder, "find_lr", past_the_edge)
    with pytest.raises(ConfigError, match="every candidate diverged") as err:
        recommend(iris, optimizers=["sgd"], epochs=3)
    text = str(err.value)
    assert text.count("diverged") >= 4  # the summary and each of the 3 candidates (constant, cosine, one-cycle)
    assert "sgd constant at lr 1e+06" in text and "sgd one_cycle at lr 1e+07" in text
    assert main(["recommend", "--data", "iris", "--optimizers", "sgd", "--epochs", "3"]) == 2
    assert "every candidate diverged" in capsys.readouterr().err


def test_lrsearch_recommend_stays_callable_after_the_module_is_imported():
    """``import lrsearch.recommend`` (the CLI does) rebinds the package attribute to the module."""
    import importlib

    import lrsearch

    importlib.import_module("lrsearch.recommend")
    from lrsearch import recommend as from_package

    rec = from_package("iris", optimizers=["adam"], epochs=3)
    assert rec.optimizer == "adam" and rec.lr > 0
    assert lrsearch.recommend("iris", optimizers=["adam"], epochs=3).lr == rec.lr


def test_recommend_on_arrays_measures_the_arrays_as_given():
    """recommend(X, y) uses the arrays in their own units (as find_lr does), so its rate and expected score are
    those of train(X, y, **rec.train_kwargs()) on them, not of a standardised copy the user does not have."""
    from lrsearch.nn import train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3)) * [1.0, 50.0, 0.01] + [0.0, 300.0, 1.0]
    y = (X[:, 0] + (X[:, 1] - 300.0) / 50.0 > 0).astype(int)
    rec = recommend(X, y, optimizers=["adam", "sgd"], hidden=(8,), epochs=5, repeats=1)
    ds = load((X, y), seed=0, scale=False)
    assert np.isin(ds.X_train.astype(np.float32), X.astype(np.float32)).all()  # raw rows, not standardised
    res = train(ds.X_train, ds.y_train, X_val=ds.X_val, y_val=ds.y_val, **rec.train_kwargs())
    assert res.val_loss[-1] == pytest.approx(rec.expected_score["val_loss"], rel=1e-6)
    assert any("unit scale" in e for e in rec.evidence)  # the finder's warning about the features' scale


def test_load_without_scaling_keeps_units():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2)) * 100.0 + 7.0
    y = X @ [2.0, -1.0] + 1000.0
    ds = load((X, y), task="regression", seed=3, scale=False, dtype="float64")
    scaled = load((X, y), task="regression", seed=3, dtype="float64")
    rows = np.array([np.flatnonzero(np.all(X == r, axis=1))[0] for r in ds.X_train])
    np.testing.assert_array_equal(ds.X_train, X[rows])
    np.testing.assert_allclose(ds.y_train.ravel(), y[rows])
    np.testing.assert_allclose(ds.inverse_y(ds.y_train), ds.y_train)
    np.testing.assert_allclose(ds.x_scaler.transform(X), X)
    np.testing.assert_allclose(scaled.inverse_y(scaled.y_train).ravel(), y[rows])  # the same split
    with pytest.raises(ConfigError, match="'scale' parameter of load"):
        load((X, y), scale="no")


def test_study_method_expects_its_best_trials_validation_loss():
    """The study method's expected score holds val_loss, as the finder method's does: the best trial's value."""
    ds = load("iris", seed=0)
    rec = recommend(ds, method="study", optimizers=["adam"], hidden=(8,), epochs=3, n_trials=3)
    study = rec.study
    assert rec.expected_score["val_loss"] == pytest.approx(study.best_value)
    assert rec.expected_score["cross_entropy"] == pytest.approx(study.best_value, rel=1e-6)
    # its evidence: the runner-up trial (the second best complete one), the range test and its range
    done = study.trials[study.trials["state"] == "COMPLETE"].sort_values("value", kind="mergesort")
    if len(done) > 1:
        assert any(e.startswith(f"runner-up: trial #{int(done.iloc[1]['number'])}") for e in rec.evidence)
    rt = next(t for t in study.range_tests if t.optimizer == "adam")
    assert rec.lr_range == tuple(rt.lr_range) and any(e.startswith("range test for adam") for e in rec.evidence)
    assert rec.train_kwargs()["seed"] == 0


def test_trainings_that_end_worse_than_untrained_say_so():
    """A candidate that 'completed' above the untrained network's validation loss learnt nothing it kept."""
    from lrsearch.nn import Trainer
    from lrsearch.recommend import _untrained_val_loss

    ds = load("wine", seed=0)
    rec = recommend(ds, optimizers=["momentum"], repeats=1)
    common = {"hidden": rec.hidden, "activation": rec.activation, "batch_size": rec.batch_size}
    untrained = _untrained_val_loss(ds, common, 0)
    tr = Trainer(ds.X_train, ds.y_train, hidden=rec.hidden, seed=0, n_classes=ds.n_classes)
    assert untrained == pytest.approx(tr.evaluate(ds.X_val, ds.y_val)[0])
    for c in rec.candidates:
        flagged = c.reason is not None and "worse than the untrained network" in c.reason
        assert flagged == (c.status == "completed" and c.val_loss > untrained), c


def test_arguments_the_method_would_ignore_are_refused(iris):
    with pytest.raises(ConfigError, match="storage, n_trials apply to method='study' only"):
        recommend(iris, storage="memory", n_trials=5)
    with pytest.raises(ConfigError, match="does not match the data set's task 'classification'"):
        recommend(iris, task="regression")


def test_a_candidate_that_diverges_on_a_seed_is_not_a_near_tie(iris, monkeypatch):
    """One of three seeds diverging was read as an overlap ('a near-tie, either will do'), and Infinity reached
    the JSON."""
    import types

    import lrsearch.evaluation as evaluation

    real = evaluation.fit_dataset
    first = recommend(iris, optimizers=["sgd", "adam"], epochs=15, repeats=1)
    runner = first.candidates[1]

    def fake(d, **kw):  # the runner-up diverges on seed 1
        if kw.get("seed") == 1 and (kw.get("optimizer"), kw.get("schedule")) == (runner.optimizer, runner.schedule):
            return types.SimpleNamespace(result=types.SimpleNamespace(status="diverged", val_loss=np.array([0.5])))
        return real(d, **kw)

    monkeypatch.setattr(evaluation, "fit_dataset", fake)
    rec = recommend(iris, optimizers=["sgd", "adam"], epochs=15, repeats=1)
    line = next(e for e in rec.evidence if e.startswith("over training seeds"))
    assert "diverged or failed on 1 of 3 seeds" in line and "near-tie" not in line
    assert (rec.optimizer, rec.schedule) != (runner.optimizer, runner.schedule)
    assert json.dumps(rec.to_dict(), allow_nan=False)  # no Infinity token
