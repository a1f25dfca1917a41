"""Early stopping in ``train`` (Keras' EarlyStopping semantics) and the exact cross-entropy metric."""

from __future__ import annotations

import numpy as np
import pytest

from lrsearch.evaluation import score_split
from lrsearch.exceptions import ConfigError
from lrsearch.metrics import compute_metrics
from lrsearch.nn import evaluate_output, train


def _data(seed: int = 0, n: int = 120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + 0.8 * rng.normal(size=n) > 0).astype(int)  # noisy: the validation loss turns up
    return X[:80], y[:80], X[80:], y[80:]


COMMON = dict(hidden=(32,), optimizer="adam", lr=0.05, batch_size=16, dtype="float64", seed=3)


def test_stops_patience_epochs_after_the_best_and_restores_it():
    X, y, Xv, yv = _data()
    full = train(X, y, X_val=Xv, y_val=yv, epochs=60, **COMMON)
    res = train(X, y, X_val=Xv, y_val=yv, epochs=60, early_stopping=4, **COMMON)
    # the reference: Keras' rule applied by hand to the full run's validation curve
    best, best_epoch, waited, stop = np.inf, 0, 0, None
    for epoch, v in enumerate(full.val_loss, start=1):
        if v < best:
            best, best_epoch, waited = v, epoch, 0
        else:
            waited += 1
            if waited >= 4:
                stop = epoch
                break
    assert stop is not None and stop < 60, "the test data must make the validation loss turn up"
    assert res.status == "early_stopped" and res.epochs_run == stop
    assert res.info["best_epoch"] == best_epoch and res.info["restored_epoch"] == best_epoch
    np.testing.assert_array_equal(res.val_loss, full.val_loss[:stop])  # the same run up to the stop
    # restored parameters: those after best_epoch epochs (constant rate, so a shorter run is the same run)
    short = train(X, y, X_val=Xv, y_val=yv, epochs=best_epoch, **COMMON)
    for a, b in zip(res.coefs + res.intercepts, short.coefs + short.intercepts):
        np.testing.assert_array_equal(a, b)
    assert res.val_metrics["cross_entropy"] == pytest.approx(best, rel=1e-12)
    assert res.val_metrics["accuracy"] == pytest.approx(short.val_metrics["accuracy"])


def test_restore_best_false_keeps_the_last_epoch_and_min_delta_counts():
    X, y, Xv, yv = _data()
    res = train(X, y, X_val=Xv, y_val=yv, epochs=60, early_stopping=4, restore_best=False, **COMMON)
    last = train(X, y, X_val=Xv, y_val=yv, epochs=res.epochs_run, **COMMON)
    np.testing.assert_array_equal(res.coefs[0], last.coefs[0])
    assert "restored_epoch" not in res.info
    # a min_delta no epoch can beat: the first epoch stays the best, the run stops after 1 + patience epochs
    strict = train(X, y, X_val=Xv, y_val=yv, epochs=60, early_stopping=3, min_delta=1e9, **COMMON)
    assert strict.status == "early_stopped" and strict.epochs_run == 4 and strict.info["best_epoch"] == 1


def test_a_run_that_keeps_improving_completes():
    X, y, Xv, yv = _data()
    res = train(X, y, X_val=Xv, y_val=yv, epochs=3, early_stopping=5, **{**COMMON, "lr": 1e-3})
    assert res.status == "completed" and res.epochs_run == 3 and res.info["best_epoch"] == 3


def test_a_run_that_ends_before_its_patience_still_keeps_its_best_epoch():
    """Keras 3's EarlyStopping (on_train_end) and scikit-learn's MLP restore the best weights however the run
    ends; a run that reached ``epochs`` with a later epoch worse than its best must too."""
    X, y, Xv, yv = _data()
    full = train(X, y, X_val=Xv, y_val=yv, epochs=60, **COMMON)
    best_epoch = int(np.argmin(full.val_loss)) + 1
    end = next(e for e in range(best_epoch + 1, 61) if full.val_loss[e - 1] > full.val_loss[best_epoch - 1])
    res = train(X, y, X_val=Xv, y_val=yv, epochs=end, early_stopping=100, **COMMON)
    assert res.status == "completed" and res.epochs_run == end
    assert res.info["best_epoch"] == res.info["restored_epoch"] == best_epoch
    short = train(X, y, X_val=Xv, y_val=yv, epochs=best_epoch, **COMMON)
    for a, b in zip(res.coefs + res.intercepts, short.coefs + short.intercepts):
        np.testing.assert_array_equal(a, b)
    assert res.val_metrics["cross_entropy"] == pytest.approx(full.val_loss[best_epoch - 1], rel=1e-12)
    # the last epoch is the best: nothing to restore, and the result says so
    last = train(X, y, X_val=Xv, y_val=yv, epochs=best_epoch, early_stopping=100, **COMMON)
    assert last.info["best_epoch"] == best_epoch and "restored_epoch" not in last.info


def test_early_stopping_needs_validation_data_and_a_positive_patience():
    X, y, Xv, yv = _data()
    with pytest.raises(ConfigError, match="pass X_val and y_val"):
        train(X, y, epochs=3, early_stopping=2, **COMMON)
    with pytest.raises(ConfigError, match="early_stopping"):
        train(X, y, X_val=Xv, y_val=yv, epochs=3, early_stopping=0, **COMMON)
    with pytest.raises(ConfigError, match="min_delta"):
        train(X, y, X_val=Xv, y_val=yv, epochs=3, early_stopping=2, min_delta=-1.0, **COMMON)


def _log_softmax_ce(X, y, coefs, intercepts):
    """Mean cross-entropy of a one-layer identity network, in float64 by logsumexp (the reference)."""
    z = X @ coefs[0] + intercepts[0]
    m = z.max(axis=1, keepdims=True)
    log_p = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def test_cross_entropy_is_exact_where_a_probability_underflows():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1, 1, 0])
    coefs, intercepts = [np.array([[60.0, -60.0], [-1.0, 1.0]], dtype=np.float32)], [np.zeros(2, np.float32)]
    loss, out = evaluate_output(X, y, coefs, intercepts, activation="identity")
    expected = _log_softmax_ce(X, y, [c.astype(np.float64) for c in coefs], intercepts)
    assert loss == pytest.approx(expected, rel=1e-6)
    assert out[0, 1] < 1e-45 * 1e6  # the true class's probability underflowed (or nearly) in float32
    clipped = compute_metrics("classification", y, out)["cross_entropy"]
    exact = compute_metrics("classification", y, out, cross_entropy=loss)["cross_entropy"]
    assert exact == pytest.approx(expected, rel=1e-6) and clipped < 0.9 * expected  # the clip understated it


def test_score_split_and_train_agree_on_the_validation_cross_entropy():
    import lrsearch

    ds = lrsearch.load("digits", seed=0)
    res = train(ds.X_train, ds.y_train, X_val=ds.X_val, y_val=ds.y_val, hidden=(16,), lr=0.05, epochs=3)
    assert res.val_metrics["cross_entropy"] == pytest.approx(res.val_loss[-1], rel=1e-12)
    assert score_split(ds, res, "val")["cross_entropy"] == pytest.approx(res.val_loss[-1], rel=1e-6)


def test_train_command_stops_early_and_says_which_epoch_it_kept(capsys):
    import json

    from lrsearch.cli import main

    assert main(["train", "--data", "digits", "--lr", "0.03", "--epochs", "200", "--early-stopping", "3"]) == 0
    out = capsys.readouterr().out
    assert "stopped early:" in out and "the metrics are those of epoch" in out
    assert out.count("\nepoch ") < 199  # it did stop
    assert main(["train", "--data", "iris", "--epochs", "5", "--early-stopping", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best_epoch"] is not None and data["status"] in ("completed", "early_stopped")
    assert main(["train", "--data", "iris", "--epochs", "5", "--early-stopping", "0"]) == 2
    assert "early_stopping" in capsys.readouterr().err
