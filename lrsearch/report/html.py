"""One self-contained HTML page for reviewers: the recommendation first, then the
evidence (study tables and figures, the best run, the range tests, every trial).

Figures are embedded as base64 PNG and the CSS is inline: the page opens offline,
fetches nothing and needs no JavaScript. Every string that comes from the user or the
study (names, parameters, columns, notes) is HTML-escaped.

>>> from lrsearch.report import build_report
>>> path = build_report("reports/iris.html", study=result, range_tests=result.range_tests)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import logging
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lrsearch._validation import check_int
from lrsearch.exceptions import ConfigError
from lrsearch.report import plots, tables
from lrsearch.report.tables import _get
from lrsearch.report.tables import format_value as _fmt

__all__ = ["build_report"]

log = logging.getLogger(__name__)

_DPI = 110
#: importances listed on the page (the rest are near zero in any study worth reading)
_MAX_IMPORTANCES = 12
#: importances below this are numerical noise (PED-ANOVA reports 1e-33 for a parameter that does nothing)
_MIN_IMPORTANCE = 1e-4


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(df: pd.DataFrame, *, kv: bool = False, max_rows: int | None = None) -> str:
    """``df`` as an escaped HTML table: numbers formatted and right-aligned, no index.

    ``kv=True`` drops the header (two-column item/value tables).
    """
    shown = df if max_rows is None else df.head(max_rows)
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    shown = shown.astype(object).apply(lambda col: col.map(_fmt)) if len(shown) else shown.copy()
    shown.columns = pd.Index([str(c) for c in shown.columns])
    classes = "tbl kv" if kv else "tbl"
    body = shown.to_html(escape=True, index=False, border=0, classes=classes, na_rep="—", header=not kv)
    # every cell's text is escaped, so each "<td>"/"<th>" below is a real cell, in column order
    n = max(len(numeric), 1)
    for tag in ("td", "th"):
        cells = iter(range(1 << 62))
        body = re.sub(f"<{tag}>", lambda m, t=tag: f'<{t} class="num">' if numeric[next(cells) % n] else f"<{t}>", body)
    note = ""
    if max_rows is not None and len(df) > max_rows:
        note = f'<p class="small">Showing {max_rows} of {len(df)} rows.</p>'
    return f'<div class="tablewrap">{body}</div>{note}'


def _n_curves(view: tables.StudyView, top_k: int) -> int:
    """How many of the best trials :func:`plots.plot_curves` draws (complete ones with a reported curve)."""
    done = view.complete
    with_curve = int((done["curve"].map(len) > 0).sum()) if "curve" in done.columns else 0
    return min(top_k, with_curve)


def _callout(kind: str, text: str) -> str:
    return f'<div class="callout {kind}">{_esc(text)}</div>'


class _Page:
    """Collects sections and rendered figures (kept as PNG bytes for ``extras``)."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, str, str]] = []  # (anchor, heading, html)
        self.figures: dict[str, bytes] = {}

    def section(self, anchor: str, heading: str, parts: Iterable[str]) -> None:
        self.sections.append((anchor, heading, "\n".join(p for p in parts if p)))

    def figure(self, name: str, draw: Callable[..., Any], *args: Any, caption: str = "",
               figsize: tuple[float, float] = (6.4, 4.0), **kwargs: Any) -> str:  # fmt: skip
        """Draw ``draw(*args, ax=ax, **kwargs)`` on a fresh figure and return an ``<img>`` data URI."""
        from matplotlib.figure import Figure

        try:
            fig = Figure(figsize=figsize, layout="constrained")
            draw(*args, ax=fig.add_subplot(), **kwargs)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
        except Exception as exc:  # one broken figure must not cost the whole report
            log.warning("figure %s could not be drawn: %s", name, exc, exc_info=True)
            return _callout("bad", f"Figure '{name}' could not be drawn: {type(exc).__name__}: {exc}")
        png = buf.getvalue()
        self.figures[name] = png
        w, h = int(figsize[0] * _DPI), int(figsize[1] * _DPI)
        data = base64.b64encode(png).decode("ascii")
        cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        img = f'<img src="data:image/png;base64,{data}" width="{w}" height="{h}" alt="{_esc(caption or name)}">'
        return f"<figure>{img}{cap}</figure>"


def _grid(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    return f'<div class="grid2">{"".join(f"<div>{i}</div>" for i in items)}</div>' if items else ""


def _num(v: Any) -> str:
    if isinstance(v, (list, tuple)):  # hidden = [64, 32], whether it came as a list or a tuple
        return "[" + ", ".join(map(_num, v)) + "]"
    return _fmt(v) if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) else str(v)


def _recommendation_html(rec: tables.ReportRecommendation) -> str:
    parts = []
    if rec.optimizer or rec.lr is not None:
        words = ["Use"]
        if rec.optimizer:
            words.append(f"<b>{_esc(rec.optimizer)}</b>")
        if rec.lr is not None:
            words.append(f"{'at ' if rec.optimizer else ''}learning rate <b>{_esc(f'{rec.lr:.3g}')}</b>")
        if rec.schedule:
            words.append(f"with the <b>{_esc(rec.schedule)}</b> schedule")
        parts.append(f'<p class="headline">{" ".join(words)}</p>')
    if rec.message:
        parts.append(f"<p>{_esc(rec.message)}</p>")
    rows = []
    if rec.schedule_params:
        rows.append(("schedule parameters", _esc(", ".join(f"{k} = {_num(v)}" for k, v in rec.schedule_params.items()))))
    if rec.settings:  # beside an optimizer or a rate, "other" settings; alone (a plain study's), its parameters
        label = "other settings" if rec.optimizer or rec.lr is not None else "parameters"
        rows.append((label, _esc(", ".join(f"{k} = {_num(v)}" for k, v in rec.settings.items()))))
    if rec.expected:
        rows.append(("expected score", _esc("; ".join(f"{k}: {_num(v)}" for k, v in rec.expected.items()))))
    if rec.evidence:
        rows.append(("evidence", "<ul>" + "".join(f"<li>{_esc(e)}</li>" for e in rec.evidence) + "</ul>"))
    if rows:
        parts.append("<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>")
    kind = "rec none" if rec.source == "none" else "rec"
    return f'<div class="{kind}">{"".join(parts)}</div>'


def _study_sections(page: _Page, view: tables.StudyView, top_k: int) -> None:
    s = view.summary
    summary = tables.study_summary_table(view)
    per_col = -(-len(summary) // 3) if len(summary) > 10 else len(summary)  # long summaries in three columns
    chunks = [summary.iloc[i:i + per_col] for i in range(0, len(summary), per_col)]
    parts = [f'<div class="grid3">{"".join(f"<div>{_table(c, kv=True)}</div>" for c in chunks)}</div>']
    if s.get("interrupted"):
        msg = tables.interrupted_message(view)
        parts.append(_callout("warn", f"{msg[0].upper()}{msg[1:]}. Finished trials are kept."))
    if not view.has_result:
        n = s.get("n_trials", len(view.trials))
        if n == 0:
            msg = f"The study '{view.name}' has no trials yet" + (
                "." if view.plain else ": run lrsearch study to add some.")  # fmt: skip
            parts.append(_callout("warn", msg))
        elif view.plain:  # lrsearch's advice (rate bounds, -vv) is for its own studies
            parts.append(_callout(
                "bad",
                f"No trial of the study '{view.name}' completed: {tables._trials_word(n)}, "
                f"{tables.trial_counts_text(view, complete=False)}. The trials table below has each trial's state, "
                "parameters and last reported value" + ("; Optuna keeps no error message for a failed trial (the "
                                                        "log of the run has it)." if s.get("failed") else "."),
            ))  # fmt: skip
            if (view.trials["curve"].map(len) > 0).any():  # what the pruned trials reported before they stopped
                parts.append(_grid([page.figure(
                    "curves", plots.plot_curves, view, top_k=top_k,
                    caption="Intermediate values (trial.report) per step of the trials that reported some: none "
                            "completed, so all are faded.")]))  # fmt: skip
        else:
            parts.append(_callout(
                "bad",
                f"No trial of the study '{view.name}' completed: {tables._trials_word(n)}, "
                f"{tables.trial_counts_text(view, complete=False)}. If most diverged, lower the "
                "learning-rate bounds (lrsearch find suggests where they should end); if they failed, rerun with -vv "
                "to see the error. The reasons are in the trials table below.",
            ))  # fmt: skip
            if s.get("diverged", 0) > 0:  # where the usable range ends: the rates at which trials diverged
                parts.append(_grid([page.figure(
                    "lr_vs_value", plots.plot_lr_vs_value, view,
                    caption="Learning rate of every trial that diverged (crosses in their optimizer's colour, in "
                            "the strip marked 'diverged': they have no value, so the height means nothing): the "
                            "usable range lies below them.")]))  # fmt: skip
    space = tables.search_space_table(view)
    if len(space):
        parts += ["<h3>Search space</h3>", _search_space_html(view, space)]
    by_opt, by_sched = tables.optimizer_summary(view), tables.schedule_summary(view)
    if len(by_opt):
        parts += ["<h3>By optimizer</h3>", _table(by_opt)]
    if len(by_sched):
        parts += ["<h3>By schedule</h3>", _table(by_sched)]
    if view.has_result:
        n_curves = _n_curves(view, top_k)
        parts.append("<h3>Figures</h3>")
        n_div = int((view.trials["diverged_reason"].notna() & ~view.trials.index.isin(view.complete.index)).sum())
        edge = "bottom" if view.maximize else "top"
        figs = [page.figure("history", plots.plot_history, view,
                            caption="Each complete trial's value against its trial number (the axis counts every "
                                    "trial; pruned and failed ones have no point); the line is the best so far.")]
        missing = []  # figures this study has no data for: said in words, not drawn as empty axes
        if view.has_rates:
            figs.append(page.figure(
                "lr_vs_value", plots.plot_lr_vs_value, view,
                caption=("Learning rate against value per optimizer." if "param_optimizer" in view.trials
                         else "Learning rate against value.") + (
                    f" Crosses in the strip along the {edge} (worst) edge: the {n_div} diverged trials, "
                    "at their rate and in their optimizer's colour (they have no value)." if n_div else "")))
        else:
            missing.append("learning rate against value (no trial has a numeric 'lr' parameter)")
        if "param_optimizer" in view.complete.columns and view.complete["param_optimizer"].notna().any():
            figs.append(page.figure("by_optimizer", plots.plot_optimizer_values, view,
                                    caption="Distribution of complete trials' values per optimizer."))
        else:
            missing.append("values by optimizer (no complete trial has an 'optimizer' parameter)")
        what = "intermediate values (trial.report) per step" if view.plain else "validation values per epoch"
        figs.append(page.figure(
            "curves", plots.plot_curves, view, top_k=top_k,
            caption=(f"Reported {what}: the {n_curves} best trials (ties in trial order, as in the trials table); "
                     "pruned trials grey. The axis frames the best trials: pruned curves far above them run off it."
                     if n_curves else f"No complete trial reported {what}.")))
        parts.append(_grid(figs))
        if missing:
            parts.append(f'<p class="small">Not drawn, for want of data: {_esc("; ".join(missing))}. lrsearch '
                         "studies name their parameters optimizer and lr (or lr_&lt;optimizer&gt;).</p>")
        imp = tables.param_importances(view)
        parts.append("<h3>Hyperparameter importance</h3>")
        if len(imp):
            shown = imp[imp["importance"] >= _MIN_IMPORTANCE].head(_MAX_IMPORTANCES)
            note = f"Evaluator: {imp.attrs.get('evaluator', '')}."
            if len(shown) < len(imp):
                n_hidden = len(imp) - len(shown)
                note += (f" {n_hidden} parameter{'s' if n_hidden != 1 else ''} of (near) zero importance "
                         f"{'are' if n_hidden != 1 else 'is'} not shown.")  # fmt: skip
            notes = [note, *_importance_notes(view, imp)]
            height = 1.2 + 0.3 * max(len(shown), 2)
            parts.append(_grid([_table(shown) + "".join(f'<p class="small">{_esc(n)}</p>' for n in notes),
                                page.figure("importance", plots.plot_importances, shown, figsize=(6.0, height))]))  # fmt: skip
        else:
            parts.append(f'<p class="small">{_esc(imp.attrs.get("note", "not available"))}.</p>')
    page.section("study", f"Study: {view.name}", parts)


def _search_space_html(view: tables.StudyView, space: pd.DataFrame) -> str:
    """The search-space table, with the best rate's bound note (as the terminal prints it) under it."""
    parts = [_table(space, kv=True)]
    if view.summary.get("aim") == "finder":
        parts.append('<p class="small">The rate bounds were set by a range test per optimizer (--aim finder); '
                     "see the range tests below.</p>")  # fmt: skip
    note = tables.rate_bound_note(view)
    if note:
        parts.append(_callout("warn", f"Note: {note}."))
    return "".join(parts)


#: Optuna's warning when a parameter's value ranges hold too few trials for a reliable importance
_FEW_TRIALS = re.compile(r"Some regimes for parameter `([^`]+)` have less than (\d+) trials\.")


def _importance_notes(view: tables.StudyView, imp: pd.DataFrame) -> list[str]:
    """What the importance evaluator warned about (``imp.attrs["note"]``), condensed, and how to read
    the importance of rates sampled per optimizer (``lr_<optimizer>``)."""
    out = []
    raw = [m.strip() for m in str(imp.attrs.get("note") or "").split("; ") if m.strip()]
    few = list(dict.fromkeys(m.group(1) for m in map(_FEW_TRIALS.match, raw) if m))
    if few:
        least = next(m.group(2) for m in map(_FEW_TRIALS.match, raw) if m)
        out.append(f"Optuna warns that some value ranges of {', '.join(few)} hold fewer than {least} complete "
                   "trials, so their importance may be inaccurate; more trials make it firmer.")  # fmt: skip
    out += [f"Optuna: {m}" for m in dict.fromkeys(raw) if not _FEW_TRIALS.match(m)]
    optimizers = set(view.trials["param_optimizer"].dropna().astype(str)) if "param_optimizer" in view.trials else set()
    rates = [p for p in imp["parameter"].astype(str) if p.startswith("lr_") and p[3:] in optimizers]
    if rates:
        out.append("Importance is per parameter: the learning rate is sampled as one parameter per optimizer "
                   f"({', '.join(sorted(rates))}), each set only in that optimizer's trials, so the rate's importance "
                   "is split by optimizer and reads near zero for an optimizer with few trials. The optimizer's own "
                   "importance and the 'By optimizer' table show how much the choice of optimizer (and its rate) "
                   "matters.")  # fmt: skip
    return out


def _best_section(page: _Page, view: tables.StudyView | None, train_result: Any) -> None:
    parts = []
    if view is not None and view.has_result:
        params = tables.best_params_table(view)
        metrics = tables.best_metrics_table(view)
        row = [_table(params, kv=True) if len(params) else ""]
        if len(metrics):
            row.append(_table(metrics))
        parts.append(_grid(row))
    if train_result is not None:
        status = _get(train_result, "status")
        if status and status != "completed":
            parts.append(_callout("warn", f"The run's status is {status}: {_get(train_result, 'reason', '')}"))
        parts.append(_grid([
            page.figure("best_loss", plots.plot_training, train_result,
                        caption="Training and validation loss per epoch." + (
                            " Regression: the MSE of the standardised targets the network trains on (the metrics "
                            "above are in the targets' own units)." if _get(train_result, "task") == "regression"
                            else "")),
            page.figure("best_lr", plots.plot_lr_schedule, train_result,
                        caption="The base learning rate at every optimizer step (schedule, warm-up, plateau)."),
        ]))  # fmt: skip
    elif view is not None and view.has_result and view.summary.get("interrupted") and not view.best_test_metrics:
        parts.append('<p class="small">The study was interrupted, so its best configuration was not retrained: '
                     "the validation metrics above are the best trial's own, and there are no test metrics or "
                     "per-epoch curves of the retrained run yet.</p>")  # fmt: skip
    elif view is not None and view.has_result and view.plain:
        parts.append('<p class="small">An Optuna study stores its trials\' parameters and values, not a training '
                     "run: to show the best configuration's per-epoch losses and per-step rates, pass train_result "
                     "to build_report.</p>")  # fmt: skip
    elif view is not None and view.has_result:
        parts.append('<p class="small">The best run itself (per-epoch losses and per-step rates) is not in the '
                     "study storage, so lrsearch report cannot show it. On the command line, run the same "
                     "lrsearch study command again with --report FILE: a finished study runs no new trial, retrains "
                     "its best configuration and writes the report with that run. In Python, pass train_result (or "
                     "the StudyResult from run_study) to build_report.</p>")  # fmt: skip
    if parts:
        page.section("best", "Best configuration", parts)


def _task(dataset_summary: Mapping[str, Any] | None, train_result: Any, range_tests: Sequence[Any]) -> str | None:
    """The task (regression or classification) as the data set, the best run or a range test records it."""
    for source in (dataset_summary, train_result, *range_tests):
        task = _get(source, "task", None)
        if isinstance(task, str) and task:
            return task
    return None


def _units_note(view: tables.StudyView | None, rec: tables.ReportRecommendation,
                dataset_summary: Mapping[str, Any] | None, train_result: Any, range_tests: Sequence[Any]) -> str:
    """For a regression: which numbers are on the standardised targets the network trains on and which
    are in the target's own units (an empty string otherwise)."""
    if _task(dataset_summary, train_result, range_tests) != "regression":
        return ""
    if isinstance(dataset_summary, Mapping) and dataset_summary.get("target_standardised") is False:
        return ""  # arrays used as given (recommend(X, y)): losses and mse are in the same units
    objective = view.objective if view is not None else None
    if objective == "val_loss" or (view is None and any("val_loss" in k for k in rec.expected)):
        return ("Regression: val_loss is the mean squared error on the standardised targets the network trains "
                "on (predicting the mean scores about 1), while mse is in the target's own squared units, so "
                "val_loss and mse differ in scale; r2 is the same on both.")  # fmt: skip
    return ("Regression: mse is in the target's own squared units; the training and validation "
            "losses of the runs (val_loss, the loss figures) are the mean squared error on the standardised "
            "targets the network trains on, so they differ in scale; r2 is the same on both.")  # fmt: skip


def _has_curve(rt: Any) -> bool:
    """Whether a range test carries its curve (the summaries a study saves do not)."""
    lrs = _get(rt, "lrs", None)
    return lrs is not None and len(lrs) > 0


def _data_name(summary: Any) -> str | None:
    name = _get(summary, "name", None) if isinstance(summary, Mapping) else None
    return str(name) if name else None


def _named(rt: Any, label: str) -> str:
    """A range test's name on the page: its optimizer, and what tells it from the others (``label``)."""
    return f"{_get(rt, 'optimizer', '')} ({label})" if label else str(_get(rt, "optimizer", ""))


def _with_origin(table: pd.DataFrame, data: Sequence[Any], source: Sequence[Any], show: Sequence[str]) -> pd.DataFrame:
    """``table`` (one row per range test) with its ``data`` and ``source`` columns after the optimizer, those
    in ``show`` only."""
    out = table.drop(columns=[c for c in ("data", "source") if c in table.columns])
    for i, (name, values) in enumerate((c, v) for c, v in (("data", data), ("source", source)) if c in show):
        out.insert(1 + i, name, list(values))
    return out


def _draw_range_test(rt: Any, ax: Any, label: str = "") -> Any:
    """The range-test plot, its title naming the data set (and file) when the page has tests of several."""
    ax = plots.plot_range_test(rt, ax=ax)
    opt = str(_get(rt, "optimizer", ""))
    title = ax.get_title()
    if label:
        ax.set_title(f"{opt} ({label}){title[len(opt):]}" if title.startswith(opt) else f"{label}: {title}",
                     fontsize=10)  # fmt: skip
    return ax


def _range_section(page: _Page, range_tests: Sequence[Any], dataset_summary: Mapping[str, Any] | None = None,
                   view: tables.StudyView | None = None) -> None:  # fmt: skip
    # which data set and file each test came from: the page labels them when they differ
    data = tables.range_test_data_sets(range_tests, view)
    labels = tables.range_test_labels(range_tests, view)
    sources = [_get(rt, "source", None) or None for rt in range_tests]
    origin = [c for c, values in (("data", data), ("source", sources)) if len({v for v in values if v}) > 1]
    rt_table = _with_origin(tables.range_test_table(range_tests).drop(columns="warnings"), data, sources, origin)
    unused = [c for c in ("search_low", "search_high") if rt_table[c].isna().all()]
    parts = [_table(rt_table.drop(columns=unused))]
    page_data = _data_name(dataset_summary)
    foreign: dict[tuple[str, str], list[str]] = {}  # (source, data set) -> optimizers
    for rt in range_tests:  # a range test of another data set measured rates for that data, not this one
        name = _data_name(_get(rt, "data", None))
        if page_data and name and name != page_data:
            foreign.setdefault((str(_get(rt, "source", None) or ""), name), []).append(str(_get(rt, "optimizer", "")))
    for (source, name), opts in foreign.items():
        what = f"The range test{'s' if len(opts) > 1 else ''} for {', '.join(opts)}" + (
            f" (from {source})" if source else "")  # fmt: skip
        parts.append(_callout("warn", f"{what} ran on the data set '{name}', not on this report's '{page_data}': "
                                      f"{'their' if len(opts) > 1 else 'its'} rates are for '{name}'. For this data "
                                      f"set, run lrsearch find --data {page_data} --json > FILE."))  # fmt: skip
    settings = tables.range_test_settings(range_tests)
    if len(settings):  # tests of several data sets or files: say which row is which
        settings = _with_origin(settings, data, sources, origin)
    if settings.shape[1] > 1 + len(origin):
        parts += ["<h3>How the tests ran</h3>", _table(settings)]
    for rt, label in zip(range_tests, labels):
        warns = _get(rt, "warnings", None) or []
        for w in [warns] if isinstance(warns, str) else warns:
            parts.append(_callout("warn", f"{_named(rt, label)}: {w}"))
    rules = [_with_origin(t, [d] * len(t), [s] * len(t), origin)
             for t, d, s in zip(map(tables.range_rules_table, ([rt] for rt in range_tests)), data, sources)
             if len(t)]  # fmt: skip
    rules_table = pd.concat(rules, ignore_index=True) if rules else pd.DataFrame()
    if len(rules_table):
        parts += ["<h3>Every rule's suggestion</h3>",
                  '<p class="small"><code>lr</code> is the rule\'s suggestion; <code>mark_lr</code> the point it '
                  "marks on the plot (where a rule reads a rate it then divides, as <code>edge</code> and "
                  "<code>min/10</code> divide by 10, the two differ) and <code>loss_at_mark</code> the curve the rule "
                  "reads there (the smoothed loss, or for lrsearch's rules the centred trend).</p>", _table(rules_table)]
    figs = [page.figure(f"range_test_{i}_{_get(rt, 'optimizer', i)}", _draw_range_test, rt, label=label,
                        caption=f"Range test for {_named(rt, label)}: loss against learning rate.")
            for i, (rt, label) in enumerate(zip(range_tests, labels)) if _has_curve(rt)]
    bare = [_named(rt, label) or "?" for rt, label in zip(range_tests, labels) if not _has_curve(rt)]
    if bare:
        parts.append(f'<p class="small">No loss curve for {_esc(", ".join(bare))}: a study stores only the summary '
                     "of its range tests (rates, bounds, probe loss), not their curves, so "
                     f"{'their figures are' if len(bare) > 1 else 'its figure is'} omitted. Range tests saved with "
                     "lrsearch find --json keep their curves (pass them with --find-json).</p>")  # fmt: skip
    parts.append(_grid(figs))
    page.section("range-tests", "LR range tests", parts)


def _read_template() -> string.Template:
    text = resources.files("lrsearch.report").joinpath("template.html").read_text(encoding="utf-8")
    return string.Template(text)


def build_report(
    out_path: str | Path,
    *,
    title: str | None = None,
    dataset_summary: Mapping[str, Any] | None = None,
    study: Any = None,
    range_tests: Sequence[Any] = (),
    train_result: Any = None,
    notes: str | Sequence[str] | None = None,
    recommendation: Any = None,
    extras: bool = False,
    top_k: int = 5,
    max_trial_rows: int = 200,
) -> Path:
    """Write one self-contained HTML report to ``out_path`` and return its path.

    ``study`` is a ``StudyResult`` (or an object with its fields) or an ``optuna.Study``;
    ``range_tests``, ``train_result`` and ``dataset_summary`` default to the study's own.
    Any subset works: range tests only, a study only, both, or a study in which no trial
    completed (the page says so). ``recommendation`` (an object with optimizer, lr,
    schedule, schedule_params, expected_score, evidence, e.g. from ``lrsearch.recommend``)
    overrides the header's own reading of the study. With ``extras=True`` the trials table
    is also written as ``<stem>_trials.csv`` and every figure as ``<stem>_<name>.png``.

    >>> build_report("reports/adam.html", range_tests=[find_result])  # doctest: +SKIP
    PosixPath('reports/adam.html')
    """
    out = Path(out_path)
    if out.is_dir():
        raise ConfigError(f"The report path {str(out)!r} is a directory; "
                          f"pass a file name such as {str(out / 'report.html')!r}.")  # fmt: skip
    check_int(top_k, "top_k", "build_report", low=1)
    check_int(max_trial_rows, "max_trial_rows", "build_report", low=1)
    view = tables.study_view(study) if study is not None else None
    if view is not None:
        range_tests = tuple(range_tests) or view.range_tests
        train_result = train_result if train_result is not None else view.best_result
        dataset_summary = dataset_summary if dataset_summary is not None else view.dataset_summary
    range_tests = tuple(range_tests)
    page = _Page()
    trials = tables.trials_table(view) if view is not None else None

    if view is None and not range_tests and train_result is None:
        nothing = _callout("warn", "Nothing to report: pass a study, range tests or a training result.")
        page.section("recommendation", "Recommendation", [nothing])
    else:
        rec = tables.recommendation_summary(view, range_tests, recommendation)
        parts = [_recommendation_html(rec)]
        units = _units_note(view, rec, dataset_summary, train_result, range_tests)
        if units:
            parts.append(f'<p class="small">{_esc(units)}</p>')
        cands = tables.candidates_table(recommendation) if recommendation is not None else None
        if cands is not None and len(cands):
            if cands["reason"].isna().all():
                cands = cands.drop(columns="reason")
            parts += ["<h3>Trainings compared</h3>", _table(cands)]
        page.section("recommendation", "Recommendation", parts)
    if dataset_summary:
        page.section("data", "Data set", [_table(tables.dataset_table(dataset_summary), kv=True)])
    if view is not None:
        _study_sections(page, view, top_k)
    _best_section(page, view, train_result)
    if range_tests:
        _range_section(page, range_tests, dataset_summary, view)
    if view is not None and len(trials):
        intro = (f"Best first by {view.objective} ({view.direction}), ties in trial order; parameters a trial did "
                 "not sample are shown as a dash. A pruned trial's value is the last one it reported before it "
                 "was stopped (a partial run's, not comparable with a complete trial's); a diverged or failed "
                 "trial has none.")  # fmt: skip
        table = _trials_html(trials, max_trial_rows)
        page.section("trials", "All trials", [f'<p class="small">{_esc(intro)}</p>', table])
    if notes:
        items = [notes] if isinstance(notes, str) else list(notes)
        page.section("notes", "Notes", [f'<div class="notes">{_esc(n)}</div>' for n in items])
    text = _render(page, title, _subtitle(view, range_tests, dataset_summary), view, range_tests)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if extras:
        if trials is not None:
            trials.to_csv(out.with_name(f"{out.stem}_trials.csv"), index=False)
        for name, png in page.figures.items():
            out.with_name(f"{out.stem}_{_safe(name)}.png").write_bytes(png)
    log.info("wrote report %s (%d figures)", out, len(page.figures))
    return out


def _trials_html(trials: pd.DataFrame, max_rows: int) -> str:
    """The trials table: its first ``max_rows`` rows (best first) and, past them, every failed trial,
    so that a long study's failures are never cut off the page."""
    if len(trials) <= max_rows:
        return _table(trials)
    keep = trials.index < max_rows
    failed = trials["state"] == "FAIL"
    shown = trials[keep | failed]
    note = f"Showing {len(shown)} of {len(trials)} trials: the first {max_rows}"
    n_failed = int((failed & ~keep).sum())
    if n_failed:
        note += f" and the {n_failed} failed trial{'s' if n_failed != 1 else ''} after them"
    return _table(shown) + f'<p class="small">{_esc(note)}.</p>'


def _subtitle(
    view: tables.StudyView | None, range_tests: Sequence[Any], dataset_summary: Mapping[str, Any] | None
) -> str:
    parts = []
    if dataset_summary and dataset_summary.get("name"):
        parts.append(f"data set {dataset_summary['name']}")
    if view is not None:
        if view.storage:
            from lrsearch.search.storage import mask_url

            parts.append(f"study {view.name} ({mask_url(view.storage)})")
        else:
            parts.append(f"study {view.name}")
        parts.append(f"objective {view.objective} ({view.direction})")
    if range_tests:
        names = list(dict.fromkeys(n for n in tables.range_test_data_sets(range_tests, view) if n))
        on = f" (on {', '.join(names)})" if len(names) > 1 else ""  # not all on the data set named first
        parts.append(f"{len(range_tests)} range test{'s' if len(range_tests) != 1 else ''}{on}")
    return " · ".join(parts)


def _render(
    page: _Page, title: str | None, subtitle: str, view: tables.StudyView | None, range_tests: Sequence[Any]
) -> str:
    """The page's sections inside the template (title, table of contents, footer)."""
    from lrsearch import __version__

    if title is None:
        title = f"lrsearch report: {view.name}" if view is not None else (
            "lrsearch report: LR range test" if range_tests else "lrsearch report")  # fmt: skip
    toc = " ".join(f'<a href="#{a}">{_esc(h.split(":")[0])}</a>' for a, h, _ in page.sections)
    body = "\n".join(f'<section id="{a}">\n<h2>{_esc(h)}</h2>\n{content}\n</section>'
                     for a, h, content in page.sections)
    return _read_template().substitute(
        title=_esc(title), subtitle=_esc(subtitle), toc=toc, body=body, version=_esc(__version__),
        generated=_esc(_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
    )  # fmt: skip


def _safe(name: str) -> str:
    """A file-name-safe version of a figure name."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
