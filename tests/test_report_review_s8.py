"""Review s8: ``build_report(path, study=<a plain optuna.Study>)``, as reports/README.md promises.

A study made by plain Optuna (its own parameter names, no lrsearch attributes) raised ``TypeError: float()
argument must be ... not 'NoneType'``: the trials frame always has optimizer, lr and schedule columns, all
None for such a study, and the per-optimizer summary read the best trial's rate with ``float(None)``. Each
shape below must render what it has (self-contained, every trial listed, no figure that failed to draw) and
say in words what it cannot show.
"""

from __future__ import annotations

import math

import optuna
import pytest

from lrsearch.cli import main
from lrsearch.exceptions import ConfigError
from lrsearch.report import build_report
from lrsearch.report import tables as T

try:
    from .test_report_fakes import journal_storage, make_optuna_study
    from .test_report_html import assert_self_contained, section_html, visible_text
except ImportError:
    from test_report_fakes import journal_storage, make_optuna_study
    from test_report_html import assert_self_contained, section_html, visible_text

optuna.logging.set_verbosity(optuna.logging.ERROR)

EVIL = "<b>bold</b>"


def _mixed(direction="minimize", storage=None):
    """A float and a categorical parameter (one choice None), intermediate values, pruned and failed trials,
    user attributes on the study and the trials, and one trial still running."""
    st = optuna.create_study(study_name="mixed", direction=direction, storage=storage,
                             sampler=optuna.samplers.RandomSampler(seed=0))  # fmt: skip
    st.set_user_attr("owner", EVIL)
    sign = 1 if direction == "minimize" else -1

    def objective(t):
        x = t.suggest_float("x", -5, 5)
        t.suggest_categorical("c", ["a", "b", None])
        t.set_user_attr("note", EVIL)
        for step in range(4):
            t.report(sign * ((x - 1) ** 2 + 4 - step), step)
            if t.number % 4 == 1 and step == 2:
                raise optuna.TrialPruned()
        if t.number % 5 == 3:
            raise ValueError("boom")
        return sign * (x - 1) ** 2

    st.optimize(objective, n_trials=12, catch=(ValueError,))
    st.ask()  # a trial a worker is still running
    return st


def _page(tmp_path, study, name="r.html"):
    html = build_report(tmp_path / name, study=study).read_text()
    assert_self_contained(html)
    text = visible_text(html)
    assert "could not be drawn" not in text  # every figure drawn is a real one
    assert "Traceback" not in text
    return html, text


def _trials_numbers(html):
    """The trial numbers in the 'All trials' table, in the page's order."""
    import re

    body = section_html(html, "trials")
    rows = re.findall(r"<tr>\s*<td[^>]*>(\d+)</td>", body)
    return [int(n) for n in rows]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_a_plain_study_with_pruned_failed_and_running_trials_renders(tmp_path, direction):
    st = _mixed(direction)
    html, text = _page(tmp_path, st)
    best = st.best_trial
    # the recommendation names the best trial and its own parameters (no optimizer or rate to recommend)
    rec = section_html(html, "recommendation")
    assert f"The best trial is #{best.number}" in visible_text(rec)
    assert f"x = {T.format_value(best.params['x'])}" in visible_text(rec)
    assert f"value (best trial): {T.format_value(best.value)}" in visible_text(rec)
    assert "validation" not in visible_text(rec)  # a plain study's value is not lrsearch's validation loss
    # every trial is listed, complete ones best first in the study's direction
    numbers = _trials_numbers(html)
    assert sorted(numbers) == [t.number for t in st.trials]
    complete = sorted((t for t in st.trials if t.state.name == "COMPLETE"), key=lambda t: t.value,
                      reverse=direction == "maximize")  # fmt: skip
    assert numbers[:len(complete)] == [t.number for t in complete]
    assert "RUNNING" in text and "PRUNED" in text and "FAIL" in text
    assert "Optuna keeps no error message" in text  # not "its worker was stopped, killed or lost"
    # what it has is drawn (history, the reported values); what it has not is said in words
    study_part = section_html(html, "study")
    assert study_part.count("<img") == 3  # history, intermediate values, importance
    assert "Not drawn, for want of data: learning rate against value" in visible_text(study_part)
    assert "values by optimizer" in visible_text(study_part)
    assert "By optimizer" not in text and "(none)" not in text  # no table grouped by a parameter it lacks
    # lrsearch's own trial columns and advice are not a plain study's
    assert "epochs_run" not in text and "diverged_reason" not in text
    assert "lrsearch study command again" not in text
    assert EVIL not in html  # user attributes, if shown, are escaped


def test_the_tables_of_a_plain_study_have_only_its_own_parameters():
    st = _mixed()
    table = T.trials_table(st)
    assert [c for c in table.columns if c in ("optimizer", "lr", "schedule", "x", "c")] == ["c", "x"]
    assert T.optimizer_summary(st).empty and T.schedule_summary(st).empty
    view = T.study_view(st)
    assert view.plain and view.best_params == st.best_params and view.best_value == st.best_value


def test_a_plain_study_with_a_rate_but_no_optimizer_gets_the_rate_figure(tmp_path):
    """An 'lr' parameter (maximised): the headline and the rate figure use it; no optimizer to group by."""
    st = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    st.optimize(lambda t: -abs(math.log10(t.suggest_float("lr", 1e-4, 1, log=True)) + 2), n_trials=6)
    html, text = _page(tmp_path, st)
    assert f"Use learning rate {st.best_params['lr']:.3g}" in text
    assert "Learning rate against value." in text
    assert "values by optimizer (no complete trial has an 'optimizer' parameter)" in text
    assert _trials_numbers(html)[0] == st.best_trial.number


def test_a_plain_study_named_like_pytorch_tuning_groups_by_its_optimizer(tmp_path):
    """Its own optimizer names (capitalised), a shared 'lr', a conditional 'momentum', and a categorical rate
    with a non-numeric choice in another study: the numeric rates are used, the rest shown as given."""
    st = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))

    def objective(t):
        opt = t.suggest_categorical("optimizer", ["Adam", "SGD"])
        lr = t.suggest_float("lr", 1e-5, 1e-1, log=True)
        if opt == "SGD":
            t.suggest_float("momentum", 0.0, 0.99)
        return abs(math.log10(lr) + 3) + (0.1 if opt == "SGD" else 0)

    st.optimize(objective, n_trials=10)
    html, text = _page(tmp_path, st)
    best = st.best_trial
    assert f"Use {best.params['optimizer']} at learning rate {best.params['lr']:.3g}" in text
    summary = T.optimizer_summary(st).set_index("optimizer")
    for name in ("Adam", "SGD"):
        mine = [t for t in st.trials if t.params["optimizer"] == name]
        top = min(mine, key=lambda t: t.value)
        assert summary.loc[name, "trials"] == len(mine)
        assert summary.loc[name, "best_lr"] == pytest.approx(top.params["lr"])
    assert "Not drawn" not in text

    cat = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    cat.optimize(lambda t: {"auto": 0.5, 0.001: 0.2, 0.01: 0.3}[t.suggest_categorical("lr", [0.001, 0.01, "auto"])],
                 n_trials=8)  # fmt: skip
    html, text = _page(tmp_path, cat, "cat.html")
    assert "Learning rate against value." in text and "auto" in section_html(html, "trials")


def test_a_plain_study_in_which_no_trial_completed_shows_what_its_trials_reported(tmp_path):
    st = optuna.create_study(study_name="nothing")

    def objective(t):
        x = t.suggest_float("x", 0, 1)
        t.report(x, 0)
        t.report(x / 2, 1)
        if t.number == 2:
            raise RuntimeError("nope")
        raise optuna.TrialPruned()

    st.optimize(objective, n_trials=4, catch=(RuntimeError,))
    html, text = _page(tmp_path, st)
    assert "No recommendation: none of the study's 4 trials completed (3 pruned, 1 failed)." in text
    assert "No trial of the study 'nothing' completed" in text
    assert "lower the learning-rate bounds" not in text and "-vv" not in text  # lrsearch's advice, not this study's
    assert section_html(html, "study").count("<img") == 1  # the values the pruned trials reported
    assert sorted(_trials_numbers(html)) == [0, 1, 2, 3]


def test_a_plain_study_with_no_trials_or_only_unfinished_ones(tmp_path):
    empty = optuna.create_study(study_name="empty")
    html, text = _page(tmp_path, empty, "empty.html")
    assert "No recommendation: the study has no trials yet." in text
    assert "The study 'empty' has no trials yet." in text and "run lrsearch study" not in text

    waiting = optuna.create_study(study_name="waiting")
    waiting.ask({"x": optuna.distributions.FloatDistribution(0, 1)})  # running
    waiting.enqueue_trial({"x": 0.5})  # waiting
    html, text = _page(tmp_path, waiting, "waiting.html")
    assert "none of the study's 2 trials completed (0 pruned, 0 failed, 1 running, 1 waiting)" in text
    assert "RUNNING" in text and "WAITING" in text
    assert "Optuna keeps no error message" not in text  # nothing failed


def test_user_attributes_named_like_lrsearch_s_but_of_another_kind_are_left_out(tmp_path):
    """A plain study may use lrsearch's attribute names for its own values: they must not break the page."""
    st = optuna.create_study(study_name="odd")
    st.set_user_attr("summary", "a string, not a dict")
    st.set_user_attr("dataset", "iris")
    st.set_user_attr("objective", 3)
    st.set_user_attr("best_val_metrics", [1, 2])

    def objective(t):
        n = t.suggest_int("n", 1, 10)
        t.set_user_attr("val_metrics", "oops")
        t.set_user_attr("epochs_run", 2.5)
        t.set_user_attr("diverged_reason", 1.5)
        return float(n)

    st.optimize(objective, n_trials=3)
    html, text = _page(tmp_path, st)
    assert "objective value (minimize)" in text  # the objective attribute was not a name
    assert _trials_numbers(html)[0] == st.best_trial.number
    assert st.trials[0].user_attrs["val_metrics"] == "oops"  # the study itself is untouched


def test_a_multi_objective_study_is_refused_with_the_reason(tmp_path):
    st = optuna.create_study(directions=["minimize", "maximize"])
    st.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=2)
    with pytest.raises(ConfigError, match="has 2 objectives .minimize, maximize.; a report ranks trials by one"):
        build_report(tmp_path / "r.html", study=st)
    assert not (tmp_path / "r.html").exists()


def test_lrsearch_report_reads_a_plain_study_from_its_storage(tmp_path, capsys):
    journal = tmp_path / "plain.journal"
    _mixed(storage=journal_storage(journal))
    out = tmp_path / "cli.html"
    assert main(["report", "--study-name", "mixed", "--storage", str(journal), "--out", str(out)]) == 0
    html = out.read_text()
    assert_self_contained(html)
    text = visible_text(html)
    assert "The best trial is #" in text and "could not be drawn" not in text


def test_a_study_with_lrsearch_s_parameter_names_keeps_its_columns_and_figures(tmp_path):
    """The other side: a study with lrsearch's parameter names and trial attributes reads as before."""
    st = make_optuna_study(None)
    table = T.trials_table(st)
    assert {"optimizer", "lr", "schedule", "epochs_run", "diverged_reason"} <= set(table.columns)
    _, text = _page(tmp_path, st)
    assert "By optimizer" in text and "Not drawn" not in text
