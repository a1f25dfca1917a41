"""Report review: numbers and facts a reviewer needs that the page used to get wrong or leave out.

Each test pins one fix: recommendation reports with their test metrics and the trainings compared,
interrupted studies, failed trials' reasons (never cut off a long table), diverged trials on the
worst edge of a maximised objective, tellable top-k curves, the rate bounds an aimed study searched,
counts of running trials read from the storage, near-zero importances, parameters named ``lr_*``.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lrsearch.report import build_report, plots
from lrsearch.report import tables as T

try:
    from .test_report_fakes import fake_range_test, fake_study, fake_trials, journal_storage
    from .test_report_html import section_html, visible_text
except ImportError:
    from test_report_fakes import fake_range_test, fake_study, fake_trials, journal_storage
    from test_report_html import section_html, visible_text


pytestmark = pytest.mark.usefixtures("close_figures")


# ----------------------------------------------------------------------------- recommend --report


def _recommendation():
    def cand(opt, sched, v, status="completed"):
        return SimpleNamespace(
            optimizer=opt, lr=0.01, schedule=sched, schedule_params={}, val_loss=v, val_metrics={}, status=status,
            reason=None if status == "completed" else "loss exploded")  # fmt: skip

    return SimpleNamespace(
        optimizer="adam", lr=0.01, optimizer_params={}, schedule="cosine", schedule_params={},
        hidden=(64, 32), activation="relu", batch_size=16, epochs=30,
        expected_score={"val_loss": 0.1234, "accuracy": 0.9712}, test_metrics={"accuracy": 0.9123},
        method="finder", evidence=["adam with cosine: best of 3 trainings"], range_tests=(), study=None,
        candidates=(cand("sgd", "constant", 0.5), cand("adam", "cosine", 0.1234),
                    cand("sgd", "cosine", math.nan, "diverged")),
    )  # fmt: skip


def test_a_recommendation_report_shows_test_metrics_settings_and_the_trainings_compared(tmp_path):
    html = build_report(tmp_path / "rec.html", recommendation=_recommendation(),
                        range_tests=[fake_range_test("adam", 0.01)]).read_text()  # fmt: skip
    rec = " ".join(visible_text(section_html(html, "recommendation") + "</section>").split())
    assert "accuracy (test): 0.9123" in rec  # the test split was measured: it was missing
    assert "accuracy (validation): 0.9712" in rec and "val_loss (validation): 0.1234" in rec
    assert "hidden = [64, 32]" in rec and "epochs = 30" in rec and "batch_size = 16" in rec
    assert "Trainings compared" in rec
    cands = T.candidates_table(_recommendation())
    assert cands["val_loss"].tolist()[:2] == [0.1234, 0.5] and cands.loc[2, "status"] == "diverged"
    assert rec.index("adam 0.01 cosine 0.1234") < rec.index("sgd 0.01 constant 0.5") < rec.index("loss exploded")


# ----------------------------------------------------------------------------- interrupted studies


def _interrupted_study():
    trials = fake_trials().assign(val_accuracy=[0.80, 0.9577, np.nan, 0.85, np.nan, 0.83])
    return fake_study(trials=trials, best_val_metrics={}, best_test_metrics={},
                      summary={"n_trials": 6, "target_trials": 100, "interrupted": True})  # fmt: skip


def test_an_interrupted_study_says_so_and_keeps_the_best_trials_own_metrics(tmp_path):
    html = build_report(tmp_path / "i.html", study=_interrupted_study()).read_text()
    text = visible_text(html)
    assert "The study was interrupted after 6 of its 100 trials" in text  # no 'done' (an older results file)
    done = fake_study(trials=fake_trials(), best_val_metrics={}, best_test_metrics={},
                      summary={"n_trials": 6, "done": 4, "target_trials": 100, "interrupted": True})  # fmt: skip
    text = visible_text(build_report(tmp_path / "d.html", study=done).read_text())
    assert "The study was interrupted with 4 of its 100 trials done" in text  # as the terminal counts (session 8)
    assert "not retrained and has no test metrics yet" in visible_text(section_html(html, "recommendation"))
    best = section_html(html, "best")
    assert "0.9577" in best  # the best trial's (#1) own validation accuracy stands in for the retrained run's
    assert "not in the study storage" not in best and "was interrupted" in best
    assert T.best_metrics_table(_interrupted_study()).set_index("metric").loc["accuracy", "validation"] == 0.9577


def test_a_report_from_storage_keeps_trial_metrics_and_counts_running_trials(tmp_path):
    """The results JSON of an interrupted run has no retrained metrics and a stale count of running trials."""
    import optuna

    from lrsearch.cli.report_cmd import load_with_optuna

    journal = tmp_path / "s.journal"
    st = optuna.create_study(study_name="s", storage=journal_storage(journal))
    for lr, v in ((0.1, 0.5), (0.01, 0.2)):
        t = st.ask({"optimizer": optuna.distributions.CategoricalDistribution(["adam"]),
                    "lr_adam": optuna.distributions.FloatDistribution(1e-4, 1, log=True)})  # fmt: skip
        t.set_user_attr("val_metrics", {"accuracy": 1 - v})
        st.tell(t, v)
    st.ask()  # a worker elsewhere is running this one
    (tmp_path / "s.json").write_text(json.dumps({
        "study_name": "s", "best_number": 1, "best_config": {"optimizer": "adam", "lr": 0.01},
        "best_val_metrics": {}, "best_test_metrics": {}, "summary": {"running": 0, "waiting": 0, "interrupted": True},
    }))  # fmt: skip
    view = load_with_optuna("s", str(journal))
    assert view.summary["running"] == 1 and view.summary["n_trials"] == 3
    assert view.best_val_metrics == {"accuracy": pytest.approx(0.8)}


# ----------------------------------------------------------------------------- failed trials


def _study_with_failures():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = optuna.create_study(study_name="fails")
    dist = {"optimizer": optuna.distributions.CategoricalDistribution(["sgd"]),
            "lr_sgd": optuna.distributions.FloatDistribution(1e-4, 1, log=True)}  # fmt: skip
    st.tell(st.ask(dist), 0.3)
    t = st.ask(dist)
    t.set_user_attr("error", "ValueError: boom <b>")
    st.tell(t, state=optuna.trial.TrialState.FAIL)
    t = st.ask(dist)
    t.set_user_attr("interrupted", True)
    st.tell(t, state=optuna.trial.TrialState.FAIL)
    st.tell(st.ask(dist), state=optuna.trial.TrialState.FAIL)
    return st


def test_failed_trials_show_why_they_failed(tmp_path):
    st = _study_with_failures()
    reasons = T.trials_table(st).set_index("number")["fail_reason"]
    assert reasons[1] == "error: ValueError: boom <b>"
    assert reasons[2].startswith("interrupted (Ctrl-C)") and reasons[3].startswith("no reason recorded")
    assert pd.isna(reasons[0])
    # a StudyResult's own trials frame has no reasons: they are read from its Optuna study
    from lrsearch.search.results import trials_frame

    result = fake_study(name="fails", study=st, trials=trials_frame(st), best_params={}, summary={})
    html = build_report(tmp_path / "f.html", study=result).read_text()
    assert "ValueError: boom &lt;b&gt;" in html and "boom <b>" not in html


def test_a_truncated_trials_table_still_lists_every_failed_trial(tmp_path):
    trials = fake_trials().assign(fail_reason=[None, None, None, None, "error: out of memory", None])
    html = build_report(tmp_path / "t.html", study=fake_study(trials=trials), max_trial_rows=2).read_text()
    part = visible_text(section_html(html, "trials"))
    assert "out of memory" in part  # trial 4 failed; best-first order puts it last, past the cut
    assert "Showing 3 of 6 trials: the first 2 and the 1 failed trial after them." in part


# ----------------------------------------------------------------------------- figures


def test_diverged_trials_sit_on_the_worst_edge_of_a_maximised_objective(tmp_path):
    trials = fake_trials().assign(value=[0.6, 0.8, np.nan, 0.7, np.nan, 0.75])
    study = fake_study(trials=trials, direction="maximize", objective="accuracy")

    def diverged_y(s):
        ax = plots.plot_lr_vs_value(s)
        (marks,) = [c for c in ax.collections if c.get_label() == "diverged"]
        return set(np.round(marks.get_offsets()[:, 1], 2))

    assert diverged_y(study) == {0.03}  # the top edge is where a maximised study's best values are
    assert diverged_y(fake_study()) == {0.97}
    html = build_report(tmp_path / "m.html", study=study).read_text()
    assert "Crosses in the strip along the bottom (worst) edge: the 2 diverged trials" in html


def test_top_curves_of_one_optimizer_can_be_told_apart():
    trials = fake_trials().assign(param_optimizer="adam")
    ax = plots.plot_curves(fake_study(trials=trials), top_k=4)
    styles = [(ln.get_color(), str(ln.get_linestyle())) for ln in ax.lines if ln.get_label().startswith("#")]
    assert len(styles) == 4 and len(set(styles)) == 4
    assert ax.get_title() == "Validation curves: top 4 trials, pruned faded"


# ----------------------------------------------------------------------------- tables


def test_range_tests_show_the_bounds_they_gave_a_study(tmp_path):
    aimed = SimpleNamespace(optimizer="adam", lr=0.2, lr_range=(0.05, 0.2), search_bounds=(0.0075, 6.0),
                            spread_decades=0.45, rule="", stop_reason="", warnings=[])  # fmt: skip
    t = T.range_test_table([aimed])
    assert (t.loc[0, "search_low"], t.loc[0, "search_high"]) == (0.0075, 6.0)
    assert t.loc[0, "rule"] is None and t.loc[0, "stop_reason"] is None  # a stored summary has neither
    assert t["lr"].dtype == float and t["search_low"].dtype == float
    html = build_report(tmp_path / "a.html", study=fake_study(range_tests=(aimed,))).read_text()
    assert "<th class=\"num\">search_low</th>" in html and "0.0075" in section_html(html, "range-tests")
    html = build_report(tmp_path / "f.html", range_tests=[fake_range_test()]).read_text()
    assert "search_low" not in html  # a plain range test has no bounds: no empty columns


def test_near_zero_importances_are_left_out_as_the_note_says(tmp_path):
    study = fake_study(summary={"importances": {"lr": 0.9, "optimizer": 0.1, "warmup": 2e-33}})
    html = build_report(tmp_path / "imp.html", study=study).read_text()
    imp = html[html.index("Hyperparameter importance"):html.index('id="best"')]
    assert "warmup" not in imp and "optimizer" in imp
    assert "1 parameter of (near) zero importance is not shown" in imp


def test_parameters_named_lr_something_are_not_taken_for_per_optimizer_rates():
    trials = pd.DataFrame({"number": [0, 1], "state": ["COMPLETE", "COMPLETE"], "value": [0.2, 0.3],
                           "param_optimizer": ["adam", "sgd"], "param_lr_adam": [0.01, np.nan],
                           "param_lr_sgd": [np.nan, 0.1], "param_lr_decay": [0.5, 0.9]})  # fmt: skip
    table = T.trials_table(SimpleNamespace(study_name="s", trials=trials))
    assert table["lr"].tolist() == [0.01, 0.1] and table["lr_decay"].tolist() == [0.5, 0.9]
    assert "lr_adam" not in table.columns and "lr_sgd" not in table.columns


def test_an_older_runs_results_file_does_not_mark_the_study_interrupted(tmp_path):
    """A run interrupted after 2 trials wrote s.json; a later run added a trial and wrote its results elsewhere.
    The report reads the study's counts from the storage and must not repeat the old run's 'interrupted'."""
    import optuna

    from lrsearch.cli.report_cmd import load_with_optuna

    journal = tmp_path / "s.journal"
    st = optuna.create_study(study_name="s", storage=journal_storage(journal))
    dist = {"optimizer": optuna.distributions.CategoricalDistribution(["adam"]),
            "lr_adam": optuna.distributions.FloatDistribution(1e-4, 1, log=True)}  # fmt: skip
    for v in (0.5, 0.2):
        st.tell(st.ask(dist), v)
    start = st.trials[0].datetime_start.isoformat()
    saved = {"study_name": "s", "best_number": 1, "summary": {"interrupted": True, "target_trials": 100000,
             "trials_this_run": 2}, "trials": [{"number": 0, "datetime_start": start}, {"number": 1}]}  # fmt: skip
    (tmp_path / "s.json").write_text(json.dumps(saved))
    assert load_with_optuna("s", str(journal)).summary["interrupted"] is True  # the file is current: it says so
    st.tell(st.ask(dist), 0.1)  # a later run's trial
    view = load_with_optuna("s", str(journal))
    assert "interrupted" not in view.summary and "target_trials" not in view.summary
    assert view.summary["n_trials"] == 3
