"""Report review, second round: what the terminal says that the page did not, and figures that misled.

Each test pins one fix against an independent reference (the CLI's own note, Optuna's trials, the
JSON a command saved): the search space and the best rate's bound note, regression units, the
curves' frame, diverged trials that read like values, tied trials, range tests read back from a
study or a find file, importance warnings, trial counts, partial values of pruned trials.
"""

from __future__ import annotations

import json
import logging
import math
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lrsearch.cli import main
from lrsearch.report import build_report, plots
from lrsearch.report import tables as T

try:
    from .test_report_fakes import fake_study, fake_trials, journal_storage, make_optuna_study
    from .test_report_html import section_html, visible_text
except ImportError:
    from test_report_fakes import fake_study, fake_trials, journal_storage, make_optuna_study
    from test_report_html import section_html, visible_text

pytestmark = pytest.mark.usefixtures("close_figures")


class _Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str) -> list[pd.DataFrame]:
    """The page's tables, header row as the columns, cells as the text shown."""
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in _Tables(html).tables if rows]


# ----------------------------------------------------------------------------- 1. search space, bound note


def test_the_search_space_and_the_terminals_bound_note_are_on_the_page(tmp_path, monkeypatch):
    """A real study whose adam rates can only lie at its bound: the page shows the space it searched and
    the very note lrsearch study prints for it."""
    from lrsearch.cli.study_cmd import _at_a_bound
    from lrsearch.search import run_study

    monkeypatch.chdir(tmp_path)
    space = {"optimizer": ["adam"], "lr": {"adam": [0.0099, 0.01]}, "schedule": ["constant", "step"],
             "step": {"gamma": [0.2, 0.8]}}  # fmt: skip
    res = run_study("iris", study_name="edge", n_trials=3, epochs=2, space=space)
    expected = _at_a_bound(res.best_config, res.summary["space"])
    assert expected and "widen lr.adam" in expected  # what the terminal summary says
    html = build_report(tmp_path / "r.html", study=res).read_text()
    study = visible_text(section_html(html, "study"))
    assert f"Note: {expected}." in study
    assert expected in visible_text(section_html(html, "recommendation"))
    assert "Search space" in study and "lr (adam) 0.0099 to 0.01 (log scale)" in study
    gamma = res.summary["space"]["step"]["gamma"]
    assert f"step.gamma {gamma['low']:g} to {gamma['high']:g}" in study
    # rebuilt from the storage (lrsearch report), the note and the space are still there
    assert main(["report", "--study-name", "edge", "--out", "cli.html"]) == 0
    cli = visible_text((tmp_path / "cli.html").read_text())
    assert f"Note: {expected}." in cli and "lr (adam) 0.0099 to 0.01 (log scale)" in cli


def test_no_bound_note_for_a_rate_inside_its_bounds(tmp_path):
    from lrsearch.cli.study_cmd import _at_a_bound

    space = {"optimizer": ["adam", "sgd"], "lr": {"adam": [1e-4, 0.1], "sgd": [1e-3, 1.0]},
             "schedule": ["cosine"], "batch_size": {"choices": [16, 32]}}  # fmt: skip
    study = fake_study(summary={"space": space})  # the best trial: adam at 0.003
    assert _at_a_bound({"optimizer": "adam", "lr": 0.003}, space) is None
    assert T.rate_bound_note(study) is None
    table = T.search_space_table(study).set_index("parameter")["searched"]
    assert table["lr (sgd)"] == "0.001 to 1 (log scale)" and table["batch_size"] == "one of 16, 32"
    html = build_report(tmp_path / "s.html", study=study).read_text()
    assert "Note: the best rate" not in html and "Search space" in html


# ----------------------------------------------------------------------------- 2. regression units


def _regression_study(**extra):
    data = {"name": "diabetes", "task": "regression", "rows": {"train": 264, "val": 89, "test": 89}}
    return fake_study(dataset_summary=data, best_val_metrics={"mse": 2768.0, "r2": 0.54},
                      best_test_metrics={"mse": 3402.0, "r2": 0.34}, **extra)  # fmt: skip


def test_a_rebuilt_regression_report_explains_its_two_scales(tmp_path):
    html = build_report(tmp_path / "r.html", study=_regression_study()).read_text()
    rec = visible_text(section_html(html, "recommendation"))
    assert "val_loss (validation, best trial): 0.2; mse (test): 3402" in rec  # the two scales, side by side
    assert "val_loss is the mean squared error on the standardised targets" in rec
    assert "mse is in the target's own squared units" in rec
    classification = build_report(tmp_path / "c.html", study=fake_study()).read_text()
    assert "standardised targets" not in classification


# ----------------------------------------------------------------------------- 3. curves framed by the top trials


def _many_pruned(n_pruned: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    done = [{"number": i, "state": "COMPLETE", "value": 0.30 + 0.04 * i,
             "curve": [0.9 - 0.1 * k + 0.04 * i for k in range(7)]} for i in range(5)]  # fmt: skip
    pruned = [{"number": 5 + j, "state": "PRUNED", "value": math.nan,
               "curve": list(10 ** rng.uniform(0, 3, size=3))} for j in range(n_pruned)]  # fmt: skip
    t = pd.DataFrame(done + pruned)
    t["param_optimizer"], t["param_lr"] = "adam", 0.01
    return t


def test_extreme_pruned_curves_do_not_flatten_the_top_trials():
    trials = _many_pruned()
    ax = plots.plot_curves(fake_study(trials=trials), top_k=5)
    top = np.concatenate(trials.loc[trials["state"] == "COMPLETE", "curve"].tolist())
    lo, hi = ax.get_ylim()
    assert ax.get_yscale() == "linear"  # the top curves span 0.3 to 1.06: no log scale for them
    assert lo <= top.min() and hi >= top.max()  # every top value in view...
    assert (hi - lo) < 2 * (top.max() - top.min())  # ...filling the height, while pruned ones (up to 1e3) run off


# ----------------------------------------------------------------------------- 4. diverged trials are not values


def test_when_every_trial_diverged_the_crosses_do_not_read_as_values(tmp_path):
    trials = fake_trials().assign(state="PRUNED", value=np.nan,
                                  diverged_reason=[f"loss exploded at step {i}" for i in range(6)])  # fmt: skip
    study = fake_study(trials=trials, best_value=None, best_val_metrics={}, best_test_metrics={})
    ax = plots.plot_lr_vs_value(study)
    assert len(ax.get_yticks()) == 0  # no value scale when nothing has a value
    (marks,) = [c for c in ax.collections if c.get_label() == "diverged"]
    colors = plots.optimizer_colors(["adam", "sgd"])
    import matplotlib.colors as mcolors

    expected = [mcolors.to_rgba(colors[o]) for o in trials["param_optimizer"]]
    np.testing.assert_allclose(marks.get_facecolors(), expected)  # each cross in its optimizer's colour
    assert "diverged" in [t.get_text() for t in ax.texts]  # the strip says what it holds
    labels = ax.get_legend_handles_labels()[1]
    assert "adam" in labels and "sgd" in labels  # colours explained though no trial of them has a value
    html = build_report(tmp_path / "d.html", study=study).read_text()
    assert "red crosses" not in html and "the height means nothing" in html


def test_values_stay_clear_of_the_diverged_strip_and_captions_mention_it_only_when_needed(tmp_path):
    ax = plots.plot_lr_vs_value(fake_study())  # trials 2 and 4 diverged; the study minimises
    lo, hi = ax.get_ylim()
    values = T.study_view(fake_study()).complete["value"]
    top_of_values = ax.transAxes.inverted().transform(ax.transData.transform((0.01, values.max())))[1]
    assert top_of_values < 0.9  # the highest value sits below the strip (the top 10%)
    assert all(t <= hi - 0.1 * (hi - lo) + 1e-12 for t in ax.get_yticks())  # no value tick inside the strip
    none_diverged = fake_trials().assign(diverged_reason=None)
    html = build_report(tmp_path / "n.html", study=fake_study(trials=none_diverged)).read_text()
    assert "diverged trials" not in section_html(html, "study").split("Figures")[1]
    html = build_report(tmp_path / "y.html", study=fake_study()).read_text()
    assert "Crosses in the strip along the top (worst) edge: the 2 diverged trials" in html


# ----------------------------------------------------------------------------- 5. ties


def _tied_study(storage=None):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = optuna.create_study(study_name="ties", storage=storage)
    dist = {"optimizer": optuna.distributions.CategoricalDistribution(["adam", "sgd"]),
            "lr_adam": optuna.distributions.FloatDistribution(1e-4, 1, log=True)}  # fmt: skip
    values = [0.5, 0.2, 0.3, 0.2] + [0.25] * 20 + [0.2]  # three tie at the best; twenty tie just behind
    for i, v in enumerate(values):
        t = st.ask(dist)
        for step, x in enumerate((v + 0.3, v + 0.1, v)):
            t.report(x, step)
        st.tell(t, v)
    return st


def test_ties_are_broken_by_trial_number_in_the_figure_the_table_and_the_recommendation(tmp_path):
    st = _tied_study()
    table = T.trials_table(st)["number"].tolist()
    ax = plots.plot_curves(st, top_k=5)
    drawn = [int(line.get_label().split()[0][1:]) for line in ax.lines if line.get_label().startswith("#")]
    assert drawn == table[:5] == [1, 3, 24, 4, 5]  # the 3 tied best, then the first of the twenty tied at 0.25
    html = build_report(tmp_path / "t.html", study=st).read_text()
    rec = visible_text(section_html(html, "recommendation"))
    assert st.best_trial.number == 1
    assert f"3 trials tie at the best value (0.2); the earliest, #{st.best_trial.number}, is shown" in rec
    assert "tie at the best" not in visible_text(build_report(tmp_path / "f.html", study=fake_study()).read_text())


# ----------------------------------------------------------------------------- 6, 7. range tests of an aimed study


def _aimed_study(tmp_path, data_name="wine"):
    """A stored study and the results JSON lrsearch study saved for it with --aim finder."""
    journal = tmp_path / "aim.journal"
    st = make_optuna_study(journal_storage(journal), name="aim", n_trials=6)
    summary = {"optimizer": "adam", "lr": 0.0123, "lr_range": [0.003, 0.05], "search_bounds": [0.001, 0.2],
               "spread_decades": 0.25, "probe_loss": 0.04321}  # fmt: skip
    (tmp_path / "aim.json").write_text(json.dumps({
        "study_name": "aim", "best_number": st.best_trial.number, "dataset": {"name": data_name, "task": "classification"},
        "summary": {"aim": "finder"}, "range_tests": [summary]}))  # fmt: skip
    return journal, summary


def test_an_aimed_studys_range_tests_show_what_was_saved_and_invent_nothing(tmp_path):
    journal, saved = _aimed_study(tmp_path)
    out = tmp_path / "a.html"
    assert main(["report", "--study-name", "aim", "--storage", str(journal), "--out", str(out)]) == 0
    part = section_html(out.read_text(), "range-tests")
    table, how = _tables(part)[:2]
    assert float(table.loc[0, "lr"]) == pytest.approx(saved["lr"], rel=1e-3)
    assert float(table.loc[0, "spread_decades"]) == pytest.approx(saved["spread_decades"])
    for absent in ("rule", "one_cycle_initial", "stop_reason"):
        assert table.loc[0, absent] == "—"  # not in the saved summary: a dash, nothing made up
    assert "mode" not in how.columns  # the summary records no ladder: no "exp"
    assert float(how.loc[0, "best_probe_loss"]) == pytest.approx(saved["probe_loss"], rel=1e-3)
    text = visible_text(part)
    assert "No loss curve for adam: a study stores only the summary of its range tests" in text
    assert "data:image/png" not in part


def test_a_find_json_of_another_data_set_is_flagged_and_keeps_the_studys_own(tmp_path, caplog):
    journal, _ = _aimed_study(tmp_path, data_name="wine")
    find = tmp_path / "f.json"
    find.write_text(json.dumps({"optimizer": "sgd", "lrs": [1e-4, 1e-3, 1e-2, 1e-1], "losses": [1.0, 0.8, 0.5, 3.0],
                                "lr": 0.005, "data": {"name": "iris"}}))  # fmt: skip
    out = tmp_path / "m.html"
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        assert main(["report", "--study-name", "aim", "--storage", str(journal), "--find-json", str(find),
                     "--out", str(out)]) == 0  # fmt: skip
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'iris'" in w and "'wine'" in w and "f.json" in w for w in warned), warned
    part = section_html(out.read_text(), "range-tests")
    table = _tables(part)[0]
    assert table["optimizer"].tolist() == ["adam", "sgd"]  # the study's own first, the file's beside it
    assert table["source"].tolist() == ["this study's --aim finder", "f.json"]
    assert "ran on the data set 'iris', not on this report's 'wine'" in visible_text(part)
    same = tmp_path / "same.json"
    same.write_text(json.dumps({**json.loads(find.read_text()), "data": {"name": "wine"}}))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lrsearch"):
        assert main(["report", "--study-name", "aim", "--storage", str(journal), "--find-json", str(same),
                     "--out", str(out)]) == 0  # fmt: skip
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


# ----------------------------------------------------------------------------- 8. probes of a find report


def test_a_find_report_shows_the_probes_the_json_holds(tmp_path, capsys):
    assert main(["find", "--data", "iris", "--optimizer", "adam", "--hidden", "8", "--repeats", "2", "--probes", "3",
                 "--probe-steps", "10", "--json"]) == 0  # fmt: skip
    saved = json.loads(capsys.readouterr().out)
    probes = saved["probes"]
    assert len(probes["losses"]) == 3
    find = tmp_path / "f.json"
    find.write_text(json.dumps(saved))
    out = tmp_path / "f.html"
    assert main(["report", "--find-json", str(find), "--out", str(out)]) == 0
    how = _tables(section_html(out.read_text(), "range-tests"))[1]
    assert how.loc[0, "probes"] == "3"
    best = min(v for v in probes["losses"] if v is not None)
    assert float(how.loc[0, "best_probe_loss"]) == pytest.approx(best, rel=1e-3)


# ----------------------------------------------------------------------------- 9. importance notes


def test_optunas_importance_warnings_and_per_optimizer_rates_are_explained(tmp_path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    st = optuna.create_study(study_name="imp", sampler=optuna.samplers.RandomSampler(seed=1))

    def objective(trial):
        opt = trial.suggest_categorical("optimizer", ["adam", "sgd"])
        lr = trial.suggest_float(f"lr_{opt}", 1e-4, 1.0, log=True)
        return abs(math.log10(lr) + 2) + (0.1 if opt == "sgd" else 0.0)

    st.optimize(objective, n_trials=12)
    imp = T.param_importances(st)
    html = build_report(tmp_path / "i.html", study=st).read_text()
    part = visible_text(html[html.index("Hyperparameter importance"):html.index('id="best"')])
    assert "Importance is per parameter" in part and "(lr_adam, lr_sgd)" in part
    warned = [p for p in ("lr_adam", "lr_sgd", "optimizer") if f"`{p}`" in imp.attrs.get("note", "")]
    for p in warned:  # every parameter Optuna warned about is named under the figure
        assert p in part.split("Optuna warns", 1)[1]
    assert bool(warned) == ("Optuna warns" in part)


# ----------------------------------------------------------------------------- 10, 11. counts and partial values


def test_counts_do_not_add_diverged_to_pruned_and_pruned_values_are_explained(tmp_path):
    import optuna

    st = make_optuna_study(None, name="counts", n_trials=30, seed=3)
    trials = st.get_trials()
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    diverged = [t for t in pruned if "diverged_reason" in t.user_attrs]
    assert diverged and len(pruned) > len(diverged)
    html = build_report(tmp_path / "c.html", study=st).read_text()
    rec = visible_text(section_html(html, "recommendation"))
    assert (f"({len(trials)} in all: {len(pruned)} pruned ({len(diverged)} of them diverged), 0 failed)") in rec
    assert "diverged)" in rec and f"{len(diverged)} diverged)" not in rec.replace("of them diverged)", "")
    part = visible_text(section_html(html, "trials"))
    assert "A pruned trial's value is the last one it reported before it was stopped" in part
    table = T.trials_table(st).set_index("number")
    partial = [t for t in pruned if t not in diverged and t.intermediate_values]
    assert partial
    for t in partial:  # the value shown is Optuna's last intermediate value of the trial
        assert table.loc[t.number, "value"] == pytest.approx(t.intermediate_values[max(t.intermediate_values)])


def test_trial_counts_text_and_the_failed_trials_grammar():
    t = pd.DataFrame({"state": ["COMPLETE", "PRUNED", "PRUNED", "FAIL"], "diverged_reason": [None, "x", None, None]})
    assert T.trial_counts_text(SimpleNamespace(trials=t)) == "1 complete, 2 pruned (1 of them diverged), 1 failed"
    assert T.trial_counts_text(SimpleNamespace(trials=t.assign(diverged_reason=None)), complete=False) == \
        "2 pruned, 1 failed"


# ----------------------------------------------------------------------------- minor


def test_tables_speak_plain_words_not_python(tmp_path):
    study = fake_study(summary={"interrupted": False, "timed_out": True, "timeout_s": 60.0, "report_every": 2,
                                "trials_per_min": 27541.2})  # fmt: skip
    summary = T.study_summary_table(study).set_index("item")["value"]
    assert summary["interrupted (last run)"] == "no"
    assert summary["stopped by its time limit (last run)"] == "yes"
    assert summary["time limit, seconds (last run)"] == "60"
    assert summary["value reported every (epochs)"] == "2"
    assert summary["trials per minute (last run)"] == "27,540"
    assert T.format_value(27541.2) == f"{round(27541.2, -1):,.0f}"
    html = build_report(tmp_path / "p.html", study=study).read_text()
    assert "run the same lrsearch study command again with --report FILE" in visible_text(section_html(html, "best"))


def test_the_history_axis_counts_every_trial():
    trials = fake_trials().assign(state=["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED", "PRUNED", "FAIL"])
    ax = plots.plot_history(fake_study(trials=trials))
    assert ax.get_xlim()[1] >= 5  # trials 3 to 5 have no point, but the axis runs to the last trial
    best = ax.lines[0]
    assert best.get_xdata()[-1] == 5 and best.get_ydata()[-1] == pytest.approx(0.20)
