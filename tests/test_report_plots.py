"""Every report figure returns the Axes it drew, with the expected lines and points."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from lrsearch.report import plots as P  # noqa: E402
from lrsearch.report import tables as T  # noqa: E402

try:
    from .test_report_fakes import fake_range_test, fake_study, fake_trials
except ImportError:
    from test_report_fakes import fake_range_test, fake_study, fake_trials


pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture(scope="module")
def real_run():
    """A real TrainResult on tiny data: 4 epochs of 3 steps, with validation data."""
    from lrsearch.nn import train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return train(X[:48], y[:48], X_val=X[48:], y_val=y[48:], hidden=(4,), optimizer="adam", lr=1e-2,
                 schedule="cosine", epochs=4, batch_size=16)  # fmt: skip


def _points(ax: Axes) -> list[int]:
    return [len(c.get_offsets()) for c in ax.collections]


def test_history_has_one_best_so_far_line():
    ax = P.plot_history(fake_study())
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.40, 0.20, 0.20, 0.20])  # trials 0, 1, 3, 5
    assert _points(ax) == [4]


def test_curves_top_k_and_pruned_faded():
    ax = P.plot_curves(fake_study(), top_k=2)
    assert len(ax.lines) == 3  # trials 1 and 5, plus pruned trial 2 (the FAIL one reported nothing)
    labels = [line.get_label() for line in ax.lines if not line.get_label().startswith("_")]
    assert labels[0].startswith("#1 adam") and labels[1].startswith("#5 sgd")


def test_lr_vs_value_on_a_log_axis_with_diverged_marks():
    ax = P.plot_lr_vs_value(fake_study())
    assert ax.get_xscale() == "log"
    assert _points(ax) == [2, 2, 2]  # adam, sgd, diverged (trials 2 and 4)
    lo, hi = ax.get_xlim()
    assert lo < 0.003 and hi > 2.0  # the diverged rates are in view


def test_optimizer_box_and_strip():
    ax = P.plot_optimizer_values(fake_study())
    assert _points(ax) == [2, 2]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["adam", "sgd"]


def test_plots_of_an_empty_study_say_so():
    empty = fake_study(trials=fake_trials().iloc[0:0])
    for fn in (P.plot_history, P.plot_curves, P.plot_lr_vs_value, P.plot_optimizer_values):
        ax = fn(empty)
        assert isinstance(ax, Axes) and len(ax.lines) == 0 and ax.texts


def test_importances_bars():
    df = pd.DataFrame({"parameter": ["lr", "optimizer", "schedule"], "importance": [0.7, 0.2, 0.1]})
    ax = P.plot_importances(df)
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["schedule", "optimizer", "lr"]  # largest on top
    assert P.plot_importances(T.param_importances(fake_study())).texts  # empty frame: says so


def test_training_curves_and_lr_schedule_of_a_real_run(real_run):
    ax = P.plot_training(real_run)
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), real_run.train_loss)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), real_run.val_loss)
    ax = P.plot_lr_schedule(real_run)
    assert len(ax.lines) == 1 and len(ax.lines[0].get_xdata()) == real_run.steps_run == 12


def test_plots_draw_on_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert P.plot_history(fake_study(), ax=axes[0]) is axes[0]
    assert P.plot_range_test(fake_range_test(), ax=axes[1]) is axes[1]
    assert axes[1].get_xscale() == "log"


def test_plot_range_test_is_reexported_lazily():
    import lrsearch.report as R

    assert R.plot_range_test is P.plot_range_test


def test_curves_use_the_recorded_epochs():
    trials = fake_trials().assign(curve_epochs=[[2, 4, 6], [2, 4, 6], [2, 4], [2, 4, 6], [], [2, 4, 6]])
    ax = P.plot_curves(fake_study(trials=trials), top_k=1)
    assert [list(line.get_xdata()) for line in ax.lines] == [[2, 4], [2, 4, 6]]  # pruned #2, then best #1


def test_training_plot_names_the_loss_it_shows():
    from types import SimpleNamespace

    from lrsearch.report import plots as P

    run = SimpleNamespace(train_loss=[1.0, 0.5], val_loss=[1.1, 0.6], status="completed", task="regression")
    assert P.plot_training(run).get_ylabel() == "loss (MSE)"
    run.task = "classification"
    assert P.plot_training(run).get_ylabel() == "loss (cross-entropy)"
