"""Report tables against hand-computed expectations on a hand-made study (see test_report_fakes)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lrsearch.report import tables as T

try:
    from .test_report_fakes import fake_range_test, fake_study, fake_trials, make_optuna_study
except ImportError:
    from test_report_fakes import fake_range_test, fake_study, fake_trials, make_optuna_study


def test_trials_table_orders_best_first_then_by_state():
    t = T.trials_table(fake_study())
    # complete by value (0.20, 0.25, 0.30, 0.40), then PRUNED, then FAIL
    assert t["number"].tolist() == [1, 5, 3, 0, 2, 4]
    assert t["state"].tolist() == ["COMPLETE"] * 4 + ["PRUNED", "FAIL"]
    assert list(t.columns) == ["number", "state", "value", "optimizer", "lr", "schedule", "gamma", "epochs_run",
                               "duration_s", "diverged_reason"]  # fmt: skip
    assert math.isnan(t.loc[0, "gamma"]) and t.loc[2, "gamma"] == 0.7  # conditional parameter: NaN where absent
    assert pd.isna(t.loc[0, "diverged_reason"]) and t.loc[4, "diverged_reason"] == "non-finite loss at step 7"


def test_pruned_trials_with_a_partial_value_rank_after_the_complete_ones():
    t = T.trials_table(fake_study(trials=fake_trials().assign(value=[0.40, 0.20, 0.01, 0.30, np.nan, 0.25])))
    assert t["number"].tolist() == [1, 5, 3, 0, 2, 4]


def test_trials_table_follows_the_direction():
    t = T.trials_table(fake_study(direction="maximize"))
    assert t["number"].tolist() == [0, 3, 5, 1, 2, 4]


def test_trials_table_accepts_enum_states_and_keeps_clashing_param_names():
    import optuna

    df = pd.DataFrame({"number": [0, 1], "state": [optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE],
                       "value": [None, 1.0], "param_state": ["a", "b"]})  # fmt: skip
    t = T.trials_table(fake_study(trials=df))
    assert t["state"].tolist() == ["COMPLETE", "PRUNED"]
    assert "param_state" in t.columns  # a parameter called "state" does not overwrite the trial state


def test_optimizer_summary_by_hand():
    s = T.optimizer_summary(fake_study())
    assert s["optimizer"].tolist() == ["adam", "sgd"]  # best value first: 0.20 < 0.25
    adam, sgd = s.iloc[0], s.iloc[1]
    assert (adam.trials, adam.complete, adam.pruned, adam.failed, adam.diverged) == (3, 2, 1, 0, 1)
    assert (sgd.trials, sgd.complete, sgd.pruned, sgd.failed, sgd.diverged) == (3, 2, 0, 1, 1)
    assert adam.diverged_share == pytest.approx(1 / 3)
    assert (adam.best_value, adam.median_value, adam.best_lr) == pytest.approx((0.20, 0.25, 0.003))
    assert (sgd.best_value, sgd.median_value, sgd.best_lr) == pytest.approx((0.25, 0.325, 0.05))


def test_optimizer_summary_maximize_picks_the_largest():
    s = T.optimizer_summary(fake_study(direction="maximize"))
    assert s["optimizer"].tolist() == ["sgd", "adam"]  # 0.40 > 0.30
    assert s.set_index("optimizer").loc["sgd", "best_lr"] == pytest.approx(0.1)
    assert s.set_index("optimizer").loc["adam", "best_lr"] == pytest.approx(0.01)


def test_schedule_summary_by_hand():
    s = T.schedule_summary(fake_study()).set_index("schedule")
    assert s.index.tolist() == ["cosine", "step", "constant"]
    assert s.loc["cosine", ["trials", "complete", "diverged"]].tolist() == [2, 2, 0]
    assert s.loc["cosine", "median_value"] == pytest.approx(0.225)
    assert s.loc["step", ["pruned", "diverged"]].tolist() == [1, 1]
    assert s.loc["step", "best_lr"] == pytest.approx(0.01)
    assert s.loc["constant", "diverged_share"] == pytest.approx(0.5)


def test_summaries_of_an_empty_study_are_empty_frames():
    empty = fake_study(trials=fake_trials().iloc[0:0])
    assert T.trials_table(empty).empty and T.optimizer_summary(empty).empty
    assert "best_lr" in T.schedule_summary(empty).columns


def test_best_tables():
    s = fake_study()
    p = T.best_params_table(s)
    assert p["parameter"].tolist() == ["optimizer", "lr", "schedule", "warmup"]
    m = T.best_metrics_table(s).set_index("metric")
    assert m.loc["accuracy", "validation"] == 0.95 and m.loc["accuracy", "test"] == 0.93


def test_range_test_tables():
    rts = [fake_range_test("adam", 3e-3), fake_range_test("sgd", 0.05, ("never diverged", "noisy"))]
    t = T.range_test_table(rts)
    assert t["optimizer"].tolist() == ["adam", "sgd"]
    assert t.loc[0, "rule"] == "valley"  # the rule whose suggestion equals the default lr
    assert (t.loc[1, "lr_base"], t.loc[1, "lr_max"]) == pytest.approx((0.005, 0.15))
    assert t.loc[1, "warnings"] == "never diverged; noisy"
    rules = T.range_rules_table(rts)
    assert len(rules) == 6 and set(rules["rule"]) == {"valley", "steepest", "min_div_10"}
    assert list(rules.columns) == ["optimizer", "rule", "lr", "mark_lr", "loss_at_mark"]
    by_opt = {rt.optimizer: rt for rt in rts}
    for _, row in rules.iterrows():  # the mark is the curve's rate at the rule's index, its loss the rule's
        sug = by_opt[row["optimizer"]].suggestions[row["rule"]]
        assert row["mark_lr"] == pytest.approx(by_opt[row["optimizer"]].lrs[sug.index])
        assert row["loss_at_mark"] == pytest.approx(sug.loss) and row["lr"] == pytest.approx(sug.lr)


def test_dataset_table_flattens_nested_values():
    d = T.dataset_table({"name": "iris", "rows": {"train": 90, "val": 30}, "classes": [0, 1, 2], "target": None})
    assert d.set_index("item")["value"].to_dict() == {"name": "iris", "rows": "train 90, val 30", "classes": "0, 1, 2"}


def test_recommendation_from_the_study_with_range_test_evidence():
    rec = T.recommendation_summary(fake_study(), [fake_range_test("adam", 3e-4)])
    assert (rec.optimizer, rec.lr, rec.schedule, rec.source) == ("adam", 0.003, "cosine", "study")
    assert rec.schedule_params == {"warmup": 2} and rec.settings == {}
    assert rec.expected["accuracy (test)"] == 0.93
    assert any("1.00 decades" in e for e in rec.evidence)


def test_recommendation_without_a_complete_trial():
    failed = fake_trials().assign(state="FAIL", value=np.nan)
    rec = T.recommendation_summary(fake_study(trials=failed, best_params={}, best_value=None, summary={}))
    assert rec.source == "none" and rec.optimizer is None
    assert "none of the study's 6 trials completed" in rec.message and "6 failed" in rec.message
    rec = T.recommendation_summary(fake_study(trials=failed), [fake_range_test("adam", 1e-3)])
    assert (rec.source, rec.optimizer, rec.lr) == ("range test", "adam", 1e-3)


def test_recommendation_object_overrides():
    obj = {"optimizer": "adamw", "lr": 1e-3, "schedule": "one_cycle", "schedule_params": {"pct_start": 0.3},
           "expected_score": 0.91, "evidence": "measured"}  # fmt: skip
    rec = T.recommendation_summary(fake_study(), (), obj)
    assert (rec.optimizer, rec.schedule, rec.schedule_params) == ("adamw", "one_cycle", {"pct_start": 0.3})
    assert rec.evidence == ["measured"]


def test_study_view_of_a_real_optuna_study_and_importances():
    st = make_optuna_study(None, n_trials=14)
    view = T.study_view(st)
    assert len(view.trials) == 14 and view.direction == "minimize" and view.objective == "val_loss"
    done = [t for t in st.trials if t.state.name == "COMPLETE"]
    assert view.best_value == pytest.approx(st.best_value) and view.best_params == st.best_params
    row = view.trials.set_index("number").loc[done[0].number]
    assert row["curve"] == [done[0].intermediate_values[k] for k in sorted(done[0].intermediate_values)]
    assert row["epochs_run"] == 5
    assert view.summary["diverged"] == sum("diverged_reason" in t.user_attrs for t in st.trials)
    imp = T.param_importances(st)
    assert set(imp["parameter"]) >= {"lr", "optimizer"} and imp["importance"].sum() == pytest.approx(1.0)
    assert "PedAnova" in imp.attrs["evaluator"]


def test_importances_fall_back_gracefully():
    assert T.param_importances(fake_study()).empty  # no optuna study object
    assert "no Optuna study" in T.param_importances(fake_study()).attrs["note"]
    st = make_optuna_study(None, n_trials=14, fail_all=True)
    imp = T.param_importances(st)
    assert imp.empty and "at least 2 complete trials" in imp.attrs["note"]

    class Broken:
        def evaluate(self, *a, **k):
            raise RuntimeError("boom")

    from optuna.importance import BaseImportanceEvaluator

    class BrokenEvaluator(Broken, BaseImportanceEvaluator):
        pass

    imp = T.param_importances(make_optuna_study(None, n_trials=14), evaluator=BrokenEvaluator())
    assert imp.empty and "boom" in imp.attrs["note"]


def _search_style_study():
    """Trials as lrsearch.search names them: a rate per optimizer (lr_<name>), schedule
    parameters prefixed by their schedule, validation metrics as val_<metric>."""
    trials = pd.DataFrame({
        "number": [0, 1, 2], "state": ["COMPLETE", "COMPLETE", "PRUNED"], "value": [0.3, 0.2, np.nan],
        "param_optimizer": ["sgd", "adam", "adam"], "param_lr_sgd": [0.1, np.nan, np.nan],
        "param_lr_adam": [np.nan, 0.004, 0.5], "param_schedule": ["step", "cosine", "cosine"],
        "param_step_gamma": [0.5, np.nan, np.nan], "param_cosine_eta_min_factor": [np.nan, 0.01, 0.1],
        "param_warmup": [0, 2, 1], "val_accuracy": [0.8, 0.9, np.nan],
    })  # fmt: skip
    best = {"optimizer": "adam", "lr_adam": 0.004, "schedule": "cosine", "cosine_eta_min_factor": 0.01, "warmup": 2}
    return fake_study(trials=trials, best_params=best, best_value=0.2,
                      summary={"sampler": "tpe", "space": {"big": 1}, "importances": {"lr_adam": 0.75, "schedule": 0.25}})  # fmt: skip


def test_search_style_names():
    s = _search_style_study()
    t = T.trials_table(s)
    assert t["number"].tolist() == [1, 0, 2]
    assert t["lr"].tolist() == [0.004, 0.1, 0.5]  # the rate of each trial's own optimizer
    assert not any(c.startswith("lr_") for c in t.columns)
    assert list(t.columns[:4]) == ["number", "state", "value", "val_accuracy"]
    rec = T.recommendation_summary(s)
    assert (rec.optimizer, rec.lr, rec.schedule) == ("adam", 0.004, "cosine")
    assert rec.schedule_params == {"eta_min_factor": 0.01, "warmup": 2} and rec.settings == {}
    summary = T.study_summary_table(s).set_index("item")["value"]
    assert summary["sampler"] == "tpe" and "space" not in summary and "importances" not in summary
    imp = T.param_importances(s)  # no optuna study: the importances the study recorded
    assert imp["parameter"].tolist() == ["lr_adam", "schedule"] and "recorded" in imp.attrs["evaluator"]


def test_best_config_drives_the_recommendation_and_the_best_table():
    cfg = {"optimizer": "adamw", "lr": 0.002, "schedule": "cosine", "schedule_params": {"eta_min": 2e-5, "warmup": 1},
           "optimizer_params": {"weight_decay": 0.05}, "epochs": 30, "batch_size": 64, "hidden": [64, 32],
           "activation": "relu", "clip_norm": None}  # fmt: skip
    s = fake_study(best_config=cfg)
    rec = T.recommendation_summary(s)
    assert (rec.optimizer, rec.lr, rec.schedule) == ("adamw", 0.002, "cosine")
    assert rec.schedule_params == {"eta_min": 2e-5, "warmup": 1}
    assert rec.settings == {"weight_decay": 0.05, "batch_size": 64, "epochs": 30, "hidden": [64, 32]}
    table = T.best_params_table(s).set_index("parameter")["value"]
    assert table.index[:5].tolist() == ["optimizer", "lr", "schedule", "schedule.eta_min", "schedule.warmup"]
    assert table["optimizer.weight_decay"] == 0.05 and table["hidden"] == "64, 32" and "clip_norm" not in table


def test_range_test_table_reads_the_one_cycle_range_when_there_is_one():
    rt = fake_range_test("adam", 3e-3)
    rt.one_cycle_range = (1.2e-4, 3e-3)
    old = fake_range_test("sgd", 0.05)
    del old.one_cycle_range
    t = T.range_test_table([rt, old])
    assert (t.loc[0, "one_cycle_initial"], t.loc[0, "one_cycle_max"]) == (1.2e-4, 3e-3)
    assert math.isnan(t.loc[1, "one_cycle_max"])


def test_range_test_settings_say_how_each_test_ran():
    import numpy as np

    from lrsearch.finder import find_lr

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    res = find_lr(X, (X[:, 0] > 0).astype(int), hidden=(4,), optimizer="adam", repeats=2, num_iter=40)
    t = T.range_test_settings([res]).iloc[0]
    assert (t["optimizer"], t["num_iter"], t["start_lr"], t["end_lr"], t["repeats"]) == ("adam", 40, 1e-7, 10.0, 2)
    assert t["probes"] == len(res.probes.lrs) and t["best_probe_loss"] == pytest.approx(min(res.probes.losses))
    assert t["steps"] == res.steps
    bare = T.range_test_settings([fake_range_test("sgd", 0.05)])
    assert "probes" not in bare.columns and "optimizer" in bare.columns
