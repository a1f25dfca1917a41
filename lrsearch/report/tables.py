"""Report tables (pandas only): trials, per-optimizer and per-schedule summaries,
importances, the best configuration, range tests and the headline recommendation.

Every function takes a *study*: a ``StudyResult`` from ``lrsearch.search`` (or any
object with its fields), or an ``optuna.Study`` (one ``lrsearch study`` made, or a plain
single-objective one with parameters of its own). :func:`study_view` turns either into
one normalised :class:`StudyView`, so the tables and plots share one reading of the trials.

>>> import pandas as pd
>>> from types import SimpleNamespace
>>> trials = pd.DataFrame({"number": [0, 1], "state": ["COMPLETE", "COMPLETE"], "value": [0.5, 0.2],
...                        "param_optimizer": ["sgd", "adam"], "param_lr": [0.1, 0.003]})
>>> s = SimpleNamespace(study_name="demo", direction="minimize", objective="val_loss", trials=trials)
>>> trials_table(s)["number"].tolist()
[1, 0]
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "STATES",
    "ReportRecommendation",
    "StudyView",
    "best_metrics_table",
    "best_params_table",
    "candidates_table",
    "dataset_table",
    "format_value",
    "group_summary",
    "optimizer_summary",
    "param_importances",
    "range_rules_table",
    "range_test_data_sets",
    "range_test_labels",
    "range_test_table",
    "rank_trials",
    "rate_bound_note",
    "recommendation_summary",
    "schedule_summary",
    "search_space_table",
    "study_summary_table",
    "study_view",
    "trial_counts_text",
    "trials_from_optuna",
    "trials_table",
]

log = logging.getLogger(__name__)

#: trial states in the order the trials table lists them after the value
STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")
#: parameters shown first, in this order; the rest follow alphabetically
_LEADING_PARAMS = ("optimizer", "lr", "schedule")
_FIXED_COLUMNS = ("number", "state", "value", "epochs_run", "duration_s", "diverged_reason", "fail_reason")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` or ``obj[name]`` (result objects and their JSON dicts alike)."""
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _is_optuna_study(obj: Any) -> bool:
    return hasattr(obj, "get_trials") and hasattr(obj, "trials_dataframe")


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class StudyView:
    """One normalised reading of a study result, shared by the tables and the plots."""

    name: str
    direction: str  # "minimize" | "maximize"
    objective: str
    trials: pd.DataFrame  # number, state, value, duration_s, epochs_run, diverged_reason, param_*, curve
    best_params: dict[str, Any] = field(default_factory=dict)  # as sampled (e.g. lr_adam, cosine_eta_min_factor)
    best_config: dict[str, Any] = field(default_factory=dict)  # the train() keyword arguments of the best trial
    best_value: float = math.nan
    best_val_metrics: dict[str, float] = field(default_factory=dict)
    best_test_metrics: dict[str, float] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    storage: str | None = None
    optuna_study: Any = None
    best_result: Any = None
    range_tests: tuple[Any, ...] = ()
    dataset_summary: dict[str, Any] | None = None
    #: an ``optuna.Study`` that ``lrsearch study`` did not make: its parameters, objective and user
    #: attributes are its author's (no optimizer or rate need be among them; the value need not be a loss)
    plain: bool = False

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def complete(self) -> pd.DataFrame:
        """COMPLETE trials with a finite value."""
        t = self.trials
        return t[(t["state"] == "COMPLETE") & np.isfinite(t["value"].astype(float))]

    @property
    def has_result(self) -> bool:
        return len(self.complete) > 0

    @property
    def best_index(self) -> Any:
        """The ``trials`` index of the best complete trial (the earliest of tied ones), or None."""
        return _best_index(self.complete, self.maximize)

    @property
    def ranked(self) -> pd.DataFrame:
        """The complete trials best first; tied values in trial-number order (the trials table's order)."""
        return rank_trials(self.complete, self.maximize)

    @property
    def param_names(self) -> list[str]:
        """Sampled parameter names: optimizer, lr, schedule first, then alphabetically.

        Per-optimizer rate parameters (``lr_adam``, ...) are left out when ``lr`` holds them.
        """
        names = [c[len("param_"):] for c in self.trials.columns if c.startswith("param_")]
        if "lr" in names and "param_optimizer" in self.trials.columns:
            per_opt = {f"lr_{o}" for o in self.trials["param_optimizer"].dropna().astype(str).unique()}
            names = [n for n in names if n not in per_opt]
        return [p for p in _LEADING_PARAMS if p in names] + sorted(p for p in names if p not in _LEADING_PARAMS)

    @property
    def has_rates(self) -> bool:
        """Whether some trial has a numeric learning rate (``param_lr``) to plot."""
        return "param_lr" in self.trials.columns and bool(
            np.isfinite(pd.to_numeric(self.trials["param_lr"], errors="coerce").astype(float)).any())

    @property
    def metric_columns(self) -> list[str]:
        """Per-trial validation metric columns (``val_<metric>``) of the trials frame."""
        return sorted(c for c in self.trials.columns if c.startswith("val_"))


#: optuna.trial.TrialState's integer values (pandas stores the IntEnum members as plain ints)
_STATE_CODES = {0: "RUNNING", 1: "COMPLETE", 2: "PRUNED", 3: "FAIL", 4: "WAITING"}


def _state_name(state: Any) -> str:
    """'COMPLETE' from 'complete', 'TrialState.COMPLETE', a TrialState member or its integer value."""
    if isinstance(state, (int, np.integer)) and not isinstance(state, bool) and not hasattr(state, "name"):
        return _STATE_CODES.get(int(state), str(state))
    return str(getattr(state, "name", state)).upper().replace("TRIALSTATE.", "")


def rank_trials(trials: pd.DataFrame, maximize: bool) -> pd.DataFrame:
    """``trials`` best ``value`` first, ties broken by trial number (a stable sort, so every table
    and figure of a report agrees on which trials are the top ones); missing values last.

    >>> t = pd.DataFrame({"number": [0, 1, 2, 3], "value": [0.5, 0.2, 0.2, float("nan")]})
    >>> rank_trials(t, maximize=False)["number"].tolist()
    [1, 2, 0, 3]
    """
    values = pd.to_numeric(trials["value"], errors="coerce").astype(float)
    key = (-values if maximize else values).where(np.isfinite(values))
    number = trials["number"] if "number" in trials.columns else pd.Series(range(len(trials)), index=trials.index)
    order = pd.DataFrame({"missing": key.isna(), "key": key.fillna(0.0), "number": number}, index=trials.index)
    return trials.loc[order.sort_values(["missing", "key", "number"], kind="mergesort").index]


def _best_index(trials: pd.DataFrame, maximize: bool) -> Any:
    """Index of the row with the best ``value``, the earliest trial of tied ones (None when there is none)."""
    if trials.empty:
        return None
    return rank_trials(trials, maximize).index[0]


def _normalise_trials(df: pd.DataFrame | None) -> pd.DataFrame:
    """Give a trials frame every expected column, with states as upper-case names and values as floats."""
    df = pd.DataFrame() if df is None else df.copy()
    defaults: dict[str, Any] = {"number": None, "state": "COMPLETE", "value": math.nan, "duration_s": math.nan,
                                "epochs_run": math.nan, "diverged_reason": None}  # fmt: skip
    for col, default in defaults.items():
        if col not in df.columns:
            df[col] = range(len(df)) if col == "number" else default
    if "curve" not in df.columns:
        df["curve"] = [[] for _ in range(len(df))]
    df["state"] = [_state_name(s) for s in df["state"]]
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["duration_s"] = pd.to_numeric(df["duration_s"], errors="coerce").astype(float)
    df["diverged_reason"] = [r if isinstance(r, str) and r.strip() else None for r in df["diverged_reason"]]
    df["curve"] = [list(c) if isinstance(c, (list, tuple, np.ndarray)) else [] for c in df["curve"]]
    # a parameter no trial has is not the study's: trials_frame always adds optimizer, lr and schedule,
    # which a plain Optuna study need not sample (all None: a column of dashes, a "(none)" group)
    df = df.drop(columns=[c for c in df.columns if c.startswith("param_") and df[c].isna().all()])
    if "param_lr" not in df.columns and "param_optimizer" in df.columns:  # rates sampled per optimizer as lr_<name>
        lr = pd.Series(math.nan, index=df.index, dtype=float)
        for opt in df["param_optimizer"].dropna().unique():
            if f"param_lr_{opt}" in df.columns:
                mine = df["param_optimizer"] == opt
                lr[mine] = pd.to_numeric(df.loc[mine, f"param_lr_{opt}"], errors="coerce").astype(float)
        if lr.notna().any():
            df["param_lr"] = lr
    return df.reset_index(drop=True)


def trials_from_optuna(study: Any) -> pd.DataFrame:
    """The trials of an ``optuna.Study`` as a frame with the ``StudyResult.trials`` columns:
    :func:`lrsearch.search.results.trials_frame` (one definition of the table), normalised.

    >>> import optuna  # doctest: +SKIP
    >>> st = optuna.create_study(); st.optimize(lambda t: t.suggest_float("lr", 1e-4, 1, log=True), 3)  # doctest: +SKIP
    >>> trials_from_optuna(st).columns.tolist()[:3]  # doctest: +SKIP
    ['number', 'state', 'value']
    """
    from lrsearch.search.results import trials_frame

    _check_single_objective(study)
    return _with_fail_reasons(_normalise_trials(trials_frame(_readable(study))), study)


def _check_single_objective(study: Any) -> None:
    """A report ranks trials by one value: refuse a multi-objective study with the reason and the fix."""
    directions = getattr(study, "directions", None) or ()
    if len(directions) > 1:
        from lrsearch.exceptions import ConfigError

        names = ", ".join(getattr(d, "name", str(d)).lower() for d in directions)
        raise ConfigError(f"The study {getattr(study, 'study_name', '')!r} has {len(directions)} objectives ({names}); "
                          "a report ranks trials by one value, so it reads single-objective studies only. Report "
                          "one objective (a study that optimises it alone), or use optuna.visualization's Pareto "
                          "front for this one.")  # fmt: skip


#: trial user attributes ``lrsearch study`` writes, and the type it writes them with
_TRIAL_ATTRS = {"val_metrics": Mapping, "diverged_reason": str, "epochs_run": (int, np.integer)}


def _attr_ok(name: str, value: Any) -> bool:
    if value is None or name not in _TRIAL_ATTRS:
        return True
    if name == "val_metrics":
        return isinstance(value, Mapping) and all(isinstance(v, (int, float)) for v in value.values())
    return isinstance(value, _TRIAL_ATTRS[name]) and not isinstance(value, bool)


def _readable(study: Any) -> Any:
    """``study`` as :func:`lrsearch.search.results.trials_frame` reads it: a plain Optuna study may use the
    names of lrsearch's trial attributes (``val_metrics``, ``diverged_reason``, ``epochs_run``) for values of
    another kind; those are left out of a copy of its trials (the study is not changed)."""
    import copy
    from types import SimpleNamespace

    trials = study.get_trials(deepcopy=False)
    if all(_attr_ok(k, v) for t in trials for k, v in t.user_attrs.items()):
        return study
    clean = []
    for t in trials:
        c = copy.copy(t)
        c.user_attrs = {k: v for k, v in t.user_attrs.items() if _attr_ok(k, v)}
        clean.append(c)
    return SimpleNamespace(user_attrs=study.user_attrs, get_trials=lambda deepcopy=False, **_: clean)


def _is_plain(study: Any) -> bool:
    """Whether an ``optuna.Study`` was made without ``lrsearch study`` (which marks its studies ``lrsearch:*``)."""
    return _is_optuna_study(study) and not any(str(k).startswith("lrsearch:") for k in study.user_attrs)


def _fail_reason(trial: Any, plain: bool = False) -> str | None:
    """Why a FAIL trial failed, from what ``lrsearch study`` recorded on it (None for other states)."""
    if _state_name(trial.state) != "FAIL":
        return None
    attrs = trial.user_attrs
    if attrs.get("error"):
        return f"error: {attrs['error']}"
    if attrs.get("interrupted"):
        return "interrupted (Ctrl-C); resuming the study reruns it"
    if plain:  # Optuna keeps no message for a trial whose objective raised: only its log has one
        return "no reason recorded (Optuna keeps no error message; the log of the run that failed it has one)"
    return "no reason recorded (its worker was stopped, killed or lost)"


def _with_fail_reasons(trials: pd.DataFrame, study: Any) -> pd.DataFrame:
    """``trials`` with a ``fail_reason`` column read from the Optuna study's FAIL trials."""
    if "fail_reason" in trials.columns or study is None or not _is_optuna_study(study):
        return trials
    plain = _is_plain(study)
    reasons = {t.number: _fail_reason(t, plain) for t in study.get_trials(deepcopy=False)}
    out = trials.copy()
    out["fail_reason"] = [reasons.get(n) for n in out["number"]]
    return out


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` as a dict when it is a mapping (a user attribute of a plain study may be anything), else ``{}``."""
    return dict(value) if isinstance(value, Mapping) else {}


def _metrics(value: Any) -> dict[str, float]:
    """The finite numbers of a mapping of metrics (anything else: ``{}``)."""
    return {str(k): float(v) for k, v in _mapping(value).items() if not isinstance(v, bool) and _finite(v)}


def _view_from_optuna(study: Any) -> StudyView:
    trials = trials_from_optuna(study)  # refuses a multi-objective study
    direction = study.direction.name.lower()
    attrs = dict(study.user_attrs)
    best_params: dict[str, Any] = {}
    best_value = math.nan
    best_val: dict[str, float] = {}
    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and _finite(t.value)]
    if done:  # the earliest of tied trials, as the tables rank them
        best = (max if direction == "maximize" else min)(done, key=lambda t: t.value)
        best_params, best_value = dict(best.params), float(best.value)
        best_val = _metrics(best.user_attrs.get("val_metrics"))
    data = attrs.get("dataset_summary") or attrs.get("dataset")
    return StudyView(
        name=str(study.study_name), direction=direction, objective=_objective_name(study), trials=trials,
        best_params=best_params, best_value=best_value,
        best_val_metrics=_metrics(attrs.get("best_val_metrics")) or best_val,
        best_test_metrics=_metrics(attrs.get("best_test_metrics")),
        summary=_summary_from_trials(trials, _mapping(attrs.get("summary"))),
        optuna_study=study, dataset_summary=dict(data) if isinstance(data, Mapping) else None,
        plain=_is_plain(study),
    )  # fmt: skip


def _objective_name(study: Any) -> str:
    """The metric an ``optuna.Study`` optimises: its metric name, else a user attribute, else 'value'."""
    names = getattr(study, "metric_names", None)
    if names and len(names) == 1 and names[0]:
        return str(names[0])
    given = study.user_attrs.get("objective")
    return given if isinstance(given, str) and given else "value"


def _summary_from_trials(trials: pd.DataFrame, given: Mapping[str, Any]) -> dict[str, Any]:
    """The counts a summary needs, from the trials, completed by what the producer recorded."""
    counts = trials["state"].value_counts()
    out: dict[str, Any] = {"n_trials": len(trials), "complete": int(counts.get("COMPLETE", 0)),
                           "pruned": int(counts.get("PRUNED", 0)), "failed": int(counts.get("FAIL", 0)),
                           "running": int(counts.get("RUNNING", 0)), "waiting": int(counts.get("WAITING", 0)),
                           "diverged": int(trials["diverged_reason"].notna().sum())}  # fmt: skip
    out.update({k: v for k, v in given.items() if v is not None})
    return out


def study_view(study: Any) -> StudyView:
    """Normalise a ``StudyResult`` (or an object with its fields) or an ``optuna.Study``.

    A :class:`StudyView` passes through unchanged.

    >>> from types import SimpleNamespace
    >>> study_view(SimpleNamespace(study_name="s", direction="maximize", trials=None)).maximize
    True
    """
    if isinstance(study, StudyView):
        return study
    if _is_optuna_study(study):
        return _view_from_optuna(study)
    trials = _get(study, "trials")
    optuna_study = _get(study, "study")
    if not isinstance(trials, pd.DataFrame):
        trials = trials_from_optuna(optuna_study) if optuna_study is not None else None
    trials = _with_fail_reasons(_normalise_trials(trials), optuna_study)
    direction = str(_get(study, "direction", "minimize")).lower().replace("studydirection.", "")
    best_value = _get(study, "best_value", math.nan)
    return StudyView(
        name=str(_get(study, "study_name", None) or _get(optuna_study, "study_name", "study")),
        direction="maximize" if direction == "maximize" else "minimize",
        objective=str(_get(study, "objective", None) or "value"),
        trials=trials,
        best_params=dict(_get(study, "best_params", None) or {}),
        best_config=dict(_get(study, "best_config", None) or {}),
        best_value=float(best_value) if _finite(best_value) else math.nan,
        best_val_metrics=dict(_get(study, "best_val_metrics", None) or _trial_val_metrics(trials, direction)),
        best_test_metrics=dict(_get(study, "best_test_metrics", None) or {}),
        summary=_summary_from_trials(trials, dict(_get(study, "summary", None) or {})),
        storage=_get(study, "storage"),
        optuna_study=optuna_study,
        best_result=_get(study, "best_result"),
        range_tests=tuple(_get(study, "range_tests", None) or ()),
        dataset_summary=_get(study, "dataset_summary"),
    )


def _trial_val_metrics(trials: pd.DataFrame, direction: str) -> dict[str, float]:
    """The validation metrics (``val_*`` columns) the best complete trial recorded itself: what a
    report shows when the best configuration was not retrained (an interrupted study)."""
    done = trials[(trials["state"] == "COMPLETE") & np.isfinite(trials["value"].astype(float))]
    best = _best_index(done, direction == "maximize")
    if best is None:
        return {}
    row = done.loc[best]
    return {c[len("val_"):]: float(row[c]) for c in sorted(done.columns)
            if c.startswith("val_") and _finite(row[c])}  # fmt: skip


def _sort_trials(view: StudyView, df: pd.DataFrame) -> pd.DataFrame:
    """Complete trials best first (in the study's direction), then the others by state
    (a pruned trial's value is a partial run's, not comparable), each by value then number."""
    key = df["value"].where(np.isfinite(df["value"]))
    key = -key if view.maximize else key
    order = pd.DataFrame({"state": df["state"].map({s: i for i, s in enumerate(STATES)}).fillna(len(STATES)),
                          "missing": key.isna(), "key": key.fillna(0.0), "number": df["number"]})  # fmt: skip
    idx = order.sort_values(["state", "missing", "key", "number"], kind="mergesort").index
    return df.loc[idx].reset_index(drop=True)


def trials_table(study: Any) -> pd.DataFrame:
    """One row per trial, best first: number, state, value, validation metrics (``val_*``,
    when the study recorded them), the parameters (optimizer, lr, schedule, then the rest
    alphabetically, NaN where a conditional one is absent), epochs_run, duration_s,
    diverged_reason.

    Parameter columns lose their ``param_`` prefix unless that would clash with a fixed column.
    A plain Optuna study (:attr:`StudyView.plain`) gets ``epochs_run`` and ``diverged_reason`` only
    when some trial recorded them (they are ``lrsearch study``'s trial attributes).
    """
    view = study_view(study)
    df = _sort_trials(view, view.trials)
    out = df[["number", "state", "value", *view.metric_columns]].copy()
    for p in view.param_names:
        out[p if p not in _FIXED_COLUMNS else f"param_{p}"] = df[f"param_{p}"]
    for col in ("epochs_run", "duration_s", "diverged_reason"):
        if not (view.plain and col != "duration_s" and df[col].isna().all()):  # lrsearch's, unused by a plain study
            out[col] = df[col]
    if "fail_reason" in df.columns and df["fail_reason"].notna().any():
        out["fail_reason"] = df["fail_reason"]
    return out


def group_summary(study: Any, by: str) -> pd.DataFrame:
    """Per value of parameter ``by``: trials, complete, pruned, failed, diverged,
    diverged_share, best_value, median_value (over complete trials) and best_lr,
    best group first.

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"state": ["COMPLETE", "PRUNED"], "value": [0.3, None],
    ...                   "param_optimizer": ["adam", "adam"], "param_lr": [1e-3, 1.0]})
    >>> group_summary(SimpleNamespace(trials=t), "optimizer")[["optimizer", "trials", "best_lr"]].values.tolist()
    [['adam', 2, 0.001]]
    """
    view = study_view(study)
    col = f"param_{by}"
    columns = [by, "trials", "complete", "pruned", "failed", "diverged", "diverged_share", "best_value",
               "median_value", "best_lr"]  # fmt: skip
    t = view.trials
    if col not in t.columns or t.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for name, g in t.groupby(t[col].astype(object).where(t[col].notna(), "(none)"), sort=True):
        done = g[(g["state"] == "COMPLETE") & np.isfinite(g["value"])]
        best_lr = math.nan
        if len(done):
            best_i = _best_index(done, view.maximize)
            lr = done.at[best_i, "param_lr"] if "param_lr" in done.columns else None
            best_lr = float(lr) if _finite(lr) else math.nan  # none sampled, or not a number
        n_div = int(g["diverged_reason"].notna().sum())
        best = (done["value"].max() if view.maximize else done["value"].min()) if len(done) else math.nan
        rows.append({by: name, "trials": len(g), "complete": int((g["state"] == "COMPLETE").sum()),
                     "pruned": int((g["state"] == "PRUNED").sum()), "failed": int((g["state"] == "FAIL").sum()),
                     "diverged": n_div, "diverged_share": n_div / len(g),
                     "best_value": float(best),
                     "median_value": float(done["value"].median()) if len(done) else math.nan,
                     "best_lr": best_lr})  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    key = -out["best_value"] if view.maximize else out["best_value"]
    order = key.sort_values(na_position="last", kind="mergesort").index
    return out.loc[order].reset_index(drop=True)


def optimizer_summary(study: Any) -> pd.DataFrame:
    """:func:`group_summary` by optimizer."""
    return group_summary(study, "optimizer")


def schedule_summary(study: Any) -> pd.DataFrame:
    """:func:`group_summary` by schedule."""
    return group_summary(study, "schedule")


def param_importances(study: Any, *, evaluator: Any = None) -> pd.DataFrame:
    """Hyperparameter importances (columns ``parameter``, ``importance``, summing to 1).

    Uses ``optuna.importance.get_param_importances`` (PED-ANOVA by default in
    Optuna 5.0); when that fails, retries with the mean-decrease-impurity evaluator.
    Needs the ``optuna.Study`` and at least two complete trials. When no importance
    can be computed the frame is empty and ``frame.attrs["note"]`` says why;
    ``frame.attrs["evaluator"]`` names the evaluator that answered.
    """
    out = pd.DataFrame(columns=["parameter", "importance"])
    view = study_view(study)
    st = view.optuna_study
    stored = view.summary.get("importances")
    if st is None and isinstance(stored, Mapping) and stored:
        out = pd.DataFrame({"parameter": list(stored), "importance": [float(v) for v in stored.values()]})
        out.attrs["evaluator"] = "as recorded in the study's summary"
        return out.sort_values("importance", ascending=False, kind="mergesort").reset_index(drop=True)
    if st is None:
        out.attrs["note"] = "no Optuna study object was given, so importances were not computed"
        return out
    n_done = len(view.complete)
    if n_done < 2:
        out.attrs["note"] = f"importances need at least 2 complete trials; this study has {n_done}"
        return out
    from optuna import importance as oi

    evaluators = [evaluator] if evaluator is not None else [None, oi.MeanDecreaseImpurityImportanceEvaluator(seed=0)]
    errors = []
    for ev in evaluators:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = oi.get_param_importances(st, evaluator=ev)
            for w in caught:
                log.info("importance evaluator: %s", w.message)
        except Exception as exc:  # optuna raises several types for degenerate studies
            errors.append(f"{type(exc).__name__}: {exc}")
            log.info("importance evaluator %s failed: %s", type(ev).__name__ if ev else "default", exc)
            continue
        if not res:
            errors.append("no parameter varied across the complete trials")
            continue
        out = pd.DataFrame({"parameter": list(res), "importance": [float(v) for v in res.values()]})
        out.attrs["evaluator"] = type(ev).__name__ if ev is not None else "PedAnovaImportanceEvaluator (default)"
        out.attrs["note"] = "; ".join(str(w.message) for w in caught)
        return out
    out.attrs["note"] = "importances could not be computed: " + "; ".join(errors)
    return out


def best_params_table(study: Any) -> pd.DataFrame:
    """The best configuration as ``parameter``/``value`` rows, optimizer, lr, schedule first.

    When the study recorded the best trial's training settings (``best_config``), those
    are shown, schedule parameters as ``schedule.<name>`` and optimizer options as
    ``optimizer.<name>``; otherwise the parameters as sampled.
    """
    view = study_view(study)
    cfg = view.best_config
    if cfg:
        flat = {k: cfg[k] for k in _LEADING_PARAMS if k in cfg}
        flat.update({f"schedule.{k}": v for k, v in (cfg.get("schedule_params") or {}).items()})
        flat.update({f"optimizer.{k}": v for k, v in (cfg.get("optimizer_params") or {}).items()})
        rest = (k for k in sorted(cfg) if k not in flat and k not in ("schedule_params", "optimizer_params"))
        flat.update({k: cfg[k] for k in rest if cfg[k] is not None})
    else:
        params = view.best_params
        keys = [k for k in _LEADING_PARAMS if k in params] + sorted(k for k in params if k not in _LEADING_PARAMS)
        flat = {k: params[k] for k in keys}
    values = [", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v for v in flat.values()]
    return pd.DataFrame({"parameter": list(flat), "value": values}, columns=["parameter", "value"])


def best_metrics_table(study: Any) -> pd.DataFrame:
    """Metrics of the best configuration: one row per metric, columns ``validation`` and ``test``."""
    view = study_view(study)
    val, test = view.best_val_metrics, view.best_test_metrics
    names = list(dict.fromkeys([*val, *test]))
    return pd.DataFrame({"metric": names, "validation": [val.get(n, math.nan) for n in names],
                         "test": [test.get(n, math.nan) for n in names]})  # fmt: skip


def study_summary_table(study: Any) -> pd.DataFrame:
    """The study's summary as ``item``/``value`` rows (name, direction, objective, counts, timing,
    sampler...); nested entries of the summary are left out."""
    view = study_view(study)
    items: dict[str, Any] = {"study": view.name, "objective": f"{view.objective} ({view.direction})"}
    if view.storage:
        from lrsearch.search.storage import mask_url

        items["storage"] = mask_url(view.storage)
    for k, v in view.summary.items():  # nested entries (space, importances...) have tables of their own
        if k in _HIDDEN_SUMMARY or k in items or v is None or isinstance(v, (Mapping, list, tuple, set)):
            continue
        if view.plain and k == "diverged" and not v:  # lrsearch's count: a plain study has none to tell
            continue
        items[_SUMMARY_LABELS.get(k, k)] = v
    return pd.DataFrame({"item": list(items), "value": [format_value(v) for v in items.values()]})


#: summary entries of the last run (not of the study), labelled as such in the report
_SUMMARY_LABELS = {
    "n_trials": "trials (all states)", "target_trials": "trials asked for (last run)",
    "trials_this_run": "trials run (last run)", "elapsed_s": "seconds (last run)",
    "trials_per_min": "trials per minute (last run)", "n_jobs": "workers (last run)",
    "worker_cpu_s": "worker CPU seconds (last run)", "interrupted": "interrupted (last run)",
    "timed_out": "stopped by its time limit (last run)", "timeout_s": "time limit, seconds (last run)",
    "report_every": "value reported every (epochs)", "aim": "aim (rate bounds)",
}
#: summary entries a reader has no use for
_HIDDEN_SUMMARY = frozenset({"created"})


def dataset_table(summary: Mapping[str, Any] | None) -> pd.DataFrame:
    """A ``Dataset.summary()`` dict as ``item``/``value`` rows (rows per split flattened)."""
    rows: list[tuple[str, str]] = []
    for k, v in (summary or {}).items():
        if isinstance(v, Mapping):
            rows.append((f"{k}", ", ".join(f"{kk} {vv}" for kk, vv in v.items())))
        elif isinstance(v, (list, tuple)):
            shown = ", ".join(map(str, v[:20])) + (f", ... ({len(v)} in all)" if len(v) > 20 else "")
            rows.append((k, shown))
        elif v is not None:
            rows.append((k, str(v)))
    return pd.DataFrame(rows, columns=["item", "value"])


def _default_rule(rt: Any) -> str:
    """The name of the rule that produced ``rt.lr``."""
    for name in ("rule", "method", "default_rule"):
        if isinstance(_get(rt, name), str) and _get(rt, name):
            return _get(rt, name)
    lr = _get(rt, "lr")
    for key, s in (_get(rt, "suggestions") or {}).items():
        if _finite(lr) and _finite(_get(s, "lr")) and math.isclose(float(_get(s, "lr")), float(lr), rel_tol=1e-9):
            return str(_get(s, "rule", key))
    return ""


def range_test_table(range_tests: Iterable[Any]) -> pd.DataFrame:
    """One row per range test: optimizer, suggested lr, its rule, the range for cyclic
    schedules (lr_base, lr_max), the one-cycle range (one_cycle_initial, one_cycle_max; NaN
    when the test has none), the rate bounds it gives a study (search_low, search_high; what
    ``--aim finder`` searched), spread over repeats in decades, stop reason, warnings and, when
    a test says where it came from (``source``: a study's own, a ``--find-json`` file), its source.
    What a test does not record (the summaries a study saves hold no rule or stop reason) is missing.
    """
    rows = []
    for rt in range_tests:
        lo, hi = _pair(_get(rt, "lr_range", None))
        oc_lo, oc_hi = _pair(_get(rt, "one_cycle_range", None))
        warns = _get(rt, "warnings", None) or []
        s_lo, s_hi = _pair(_get(rt, "search_bounds", None))
        rows.append({"optimizer": _get(rt, "optimizer", ""), "lr": _get(rt, "lr", math.nan),
                     "rule": _default_rule(rt) or None, "lr_base": lo, "lr_max": hi, "one_cycle_initial": oc_lo,
                     "one_cycle_max": oc_hi, "search_low": s_lo, "search_high": s_hi,
                     "spread_decades": _get(rt, "spread_decades", math.nan),
                     "stop_reason": _get(rt, "stop_reason", None) or None,
                     "warnings": "; ".join(map(str, warns)) if not isinstance(warns, str) else warns,
                     "source": _get(rt, "source", None) or None})  # fmt: skip
    out = pd.DataFrame(rows, columns=["optimizer", "lr", "rule", "lr_base", "lr_max", "one_cycle_initial",
                                      "one_cycle_max", "search_low", "search_high", "spread_decades", "stop_reason",
                                      "warnings", "source"])  # fmt: skip
    floats = ["lr", "lr_base", "lr_max", "one_cycle_initial", "one_cycle_max", "search_low", "search_high",
              "spread_decades"]  # fmt: skip
    return out.astype({c: float for c in floats})


def range_test_data_sets(range_tests: Iterable[Any], study: Any = None) -> list[str | None]:
    """The data set each range test ran on: the name it recorded (``lrsearch find --json`` saves the data
    summary under ``data``), else the study's for a range test of the study's own (``study.range_tests``,
    its ``--aim finder``), else None (not recorded).

    >>> from types import SimpleNamespace as NS
    >>> range_test_data_sets([NS(optimizer="adam", data={"name": "moons"}), NS(optimizer="sgd")])
    ['moons', None]
    """
    view = study_view(study) if study is not None else None
    own = {id(rt) for rt in view.range_tests} if view is not None else set()
    study_data = _get(view.dataset_summary, "name", None) if view is not None and isinstance(
        view.dataset_summary, Mapping) else None  # fmt: skip
    names: list[str | None] = []
    for rt in range_tests:
        data = _get(rt, "data", None)
        name = _get(data, "name", None) if isinstance(data, Mapping) else None
        if not name and id(rt) in own:
            name = study_data
        names.append(str(name) if name else None)
    return names


def range_test_labels(range_tests: Sequence[Any], study: Any = None) -> list[str]:
    """What tells each range test apart from the others on one page (an empty string when nothing needs
    telling): its data set when the tests ran on more than one (:func:`range_test_data_sets`), and the file it
    came from (``source``) when tests of one data set, or of no recorded one, come from several.

    >>> from types import SimpleNamespace as NS
    >>> a = NS(optimizer="adam", data={"name": "moons"}, source="a.json")
    >>> b = NS(optimizer="adam", data={"name": "other"}, source="b.json")
    >>> c = NS(optimizer="adam", data={"name": "moons"}, source="c.json")
    >>> range_test_labels([a, b]), range_test_labels([a, c]), range_test_labels([a, a])
    (['moons', 'other'], ['a.json', 'c.json'], ['', ''])
    >>> range_test_labels([a, b, c])
    ['moons, a.json', 'other', 'moons, c.json']
    """
    rts = list(range_tests)
    names = range_test_data_sets(rts, study)
    sources = [str(_get(rt, "source", None) or "") or None for rt in rts]
    by_data = len({n for n in names if n}) > 1
    groups: dict[str | None, set[str | None]] = {}  # data set shown (None: none) -> the sources of its tests
    for name, source in zip(names, sources):
        groups.setdefault(name if by_data else None, set()).add(source)
    labels = []
    for name, source in zip(names, sources):
        key = name if by_data else None
        parts = [name] if key else []
        if by_data and not key:  # beside tests that say their data set, one that does not
            parts = ["data set not recorded"]
        if source and (len(groups[key]) > 1 or (by_data and not key)):  # the data set alone does not tell
            parts.append(source)
        labels.append(", ".join(parts))
    return labels


def range_test_settings(range_tests: Iterable[Any]) -> pd.DataFrame:
    """How each range test ran: optimizer, task, ladder (start_lr, end_lr, num_iter, mode), smoothing,
    repeats, validation mode, probes (count and their lowest held-out loss; a study's saved summary
    keeps only that loss, ``probe_loss``), optimizer steps and seconds. Columns no test recorded are left out."""
    from lrsearch.search.results import best_probe_loss

    rows = []
    for rt in range_tests:
        probes = _get(rt, "probes", None)
        best_probe = best_probe_loss(rt)
        if not math.isfinite(best_probe) and _finite(_get(rt, "probe_loss", None)):
            best_probe = float(_get(rt, "probe_loss"))
        curves = _get(rt, "curves", None)
        rows.append({
            "optimizer": _get(rt, "optimizer", ""), "task": _get(rt, "task", None),
            "start_lr": _get(rt, "start_lr", None), "end_lr": _get(rt, "end_lr", None),
            "num_iter": _get(rt, "num_iter", None), "mode": _get(rt, "mode", None),
            "smoothing": _get(rt, "smoothing", None), "repeats": len(curves) if curves else None,
            "validation": _get(rt, "validation", None),
            "probes": len(_get(probes, "losses", ())) if probes is not None else None,
            "best_probe_loss": best_probe if math.isfinite(best_probe) else None,
            "steps": _get(rt, "steps", None), "seconds": _get(rt, "seconds", None),
        })  # fmt: skip
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    keep = [c for c in out.columns if c == "optimizer" or out[c].notna().any()]
    return out[keep]


def _pair(values: Any) -> tuple[float, float]:
    """``(low, high)`` of a 2-sequence, NaN for what is missing."""
    return (tuple(values or ()) + (math.nan, math.nan))[:2]


def range_rules_table(range_tests: Iterable[Any]) -> pd.DataFrame:
    """Every rule's suggestion of every range test: optimizer, rule, suggested lr, and the point the rule
    marks on the plot (``mark_lr``: the rate it read, e.g. the edge the ``edge`` rule divides by 10; and
    ``loss_at_mark``, the curve the rule reads there)."""
    rows = []
    for rt in range_tests:
        raw_lrs = _get(rt, "lrs", None)
        lrs = None if raw_lrs is None else np.asarray(raw_lrs, dtype=float)
        for key, s in (_get(rt, "suggestions") or {}).items():
            i = _get(s, "index", -1)
            mark = float(lrs[i]) if lrs is not None and isinstance(i, (int, np.integer)) and 0 <= i < len(lrs) \
                else math.nan
            rows.append({"optimizer": _get(rt, "optimizer", ""), "rule": str(_get(s, "rule", key)),
                         "lr": _get(s, "lr", math.nan), "mark_lr": mark,
                         "loss_at_mark": _get(s, "loss", math.nan)})  # fmt: skip
    return pd.DataFrame(rows, columns=["optimizer", "rule", "lr", "mark_lr", "loss_at_mark"])


@dataclass(frozen=True)
class ReportRecommendation:
    """What the report's header recommends, and why (all plain values, ready to print)."""

    optimizer: str | None
    lr: float | None
    schedule: str | None
    schedule_params: dict[str, Any]
    settings: dict[str, Any]  # optimizer options and other training settings worth stating
    expected: dict[str, float]  # label -> value, e.g. {"val_loss (validation)": 0.08, "accuracy (test)": 0.97}
    evidence: list[str]
    source: str  # "recommendation" | "study" | "range test" | "none"
    message: str = ""


def format_value(v: Any) -> str:
    """A value as report text: numbers to 4 significant digits (thousands separated from 10,000 on),
    yes/no for booleans, missing values as a dash.

    >>> format_value(0.000123456), format_value(3.0), format_value(None), format_value([1, 2])
    ('0.0001235', '3', '—', '[2 values]')
    >>> format_value(pd.NA), format_value(True), format_value(27541.2), format_value(2.5e16)
    ('—', 'yes', '27,540', '2.5e+16')
    """
    if v is None:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return "—"
        if 1e4 <= abs(f) < 1e15:  # 27,540 rather than 2.754e+04: still 4 significant digits
            return f"{round(f, 3 - math.floor(math.log10(abs(f)))):,.0f}"
        if f.is_integer() and abs(f) < 1e6:
            return str(int(f))
        return f"{f:.4g}"
    if isinstance(v, (list, tuple, np.ndarray)):
        return f"[{len(v)} values]"
    if v is pd.NA or v is pd.NaT:  # a nullable column's missing value (epochs_run of a failed trial)
        return "—"
    return str(v)



def _decades(a: float, b: float) -> float:
    return abs(math.log10(a) - math.log10(b)) if a > 0 and b > 0 else math.nan


def recommendation_summary(
    study: Any = None, range_tests: Sequence[Any] = (), recommendation: Any = None
) -> ReportRecommendation:
    """The header's recommendation: an explicit ``recommendation`` object (optimizer, lr,
    schedule, schedule_params, expected_score, evidence) when given, else the study's best
    complete trial, else the range tests' suggested rates; with the evidence behind it.

    >>> recommendation_summary().source
    'none'
    """
    rts = list(range_tests)
    if recommendation is not None:
        return _from_recommendation(recommendation)
    view = study_view(study) if study is not None else None
    if view is not None and view.has_result:
        return _from_study(view, rts)
    if rts:
        return _from_range_tests(rts, had_study=view is not None, labels=range_test_labels(rts, view))
    if view is None:
        return ReportRecommendation(None, None, None, {}, {}, {}, [], "none",
                                    "No recommendation: the report was given neither a study nor a range test.")  # fmt: skip
    s = view.summary
    n = s.get("n_trials", len(view.trials))
    if not n:
        return ReportRecommendation(None, None, None, {}, {}, {}, [], "none",
                                    "No recommendation: the study has no trials yet.")  # fmt: skip
    message = (f"No recommendation: none of the study's {_trials_word(n)} completed "
               f"({trial_counts_text(view, complete=False)}).")  # fmt: skip
    return ReportRecommendation(None, None, None, {}, {}, {}, [], "none", message)


def _trials_word(n: int) -> str:
    """``"1 trial"``, ``"4 trials"``."""
    return f"{n} trial" if n == 1 else f"{n} trials"


def trial_counts_text(study: Any, *, complete: bool = True) -> str:
    """The trials by state in words, diverged trials counted within their state (a diverged trial is
    pruned, not a fourth kind): ``"17 complete, 23 pruned (4 of them diverged), 0 failed"``.

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"state": ["COMPLETE", "PRUNED", "PRUNED", "FAIL"],
    ...                   "diverged_reason": [None, "loss exploded", None, None]})
    >>> trial_counts_text(SimpleNamespace(trials=t))
    '1 complete, 2 pruned (1 of them diverged), 1 failed'
    """
    view = study_view(study)
    s, t = view.summary, view.trials
    diverged = t["diverged_reason"].notna()
    parts = [f"{s.get('complete', 0)} complete"] if complete else []
    for key, state in (("pruned", "PRUNED"), ("failed", "FAIL")):
        n_div = int((diverged & (t["state"] == state)).sum()) if len(t) else (
            int(s.get("diverged", 0)) if state == "PRUNED" else 0)  # fmt: skip
        parts.append(f"{s.get(key, 0)} {key}" + (f" ({n_div} of them diverged)" if n_div else ""))
    for key in ("running", "waiting"):
        if s.get(key):
            parts.append(f"{s[key]} {key}")
    return ", ".join(parts)


def interrupted_message(view: StudyView) -> str:
    """What a report says about a study whose last run was interrupted."""
    s = view.summary
    target = s.get("target_trials")
    if isinstance(s.get("done"), int):  # what the budget counts (complete and pruned), as the terminal says it
        msg = f"the study was interrupted with {s['done']}" + (f" of its {target} trials done" if target else
                                                               " trials done")  # fmt: skip
    else:  # results of an older version: every trial listed
        n = s.get("n_trials", len(view.trials))
        msg = f"the study was interrupted after {n}" + (f" of its {target} trials" if target else " trials")
    if not view.best_test_metrics:
        msg += ", so its best configuration was not retrained and has no test metrics yet"
    return msg + "; run the same lrsearch study command again to resume it"


def _labelled(metrics: Any, split: str) -> dict[str, Any]:
    """``{"accuracy (test)": 0.93, ...}``: metric names labelled with their split (labels kept as given)."""
    if not isinstance(metrics, Mapping):
        return {}
    return {(k if "(" in str(k) else f"{k} ({split})"): v for k, v in metrics.items()}


def _from_recommendation(rec: Any) -> ReportRecommendation:
    expected = _get(rec, "expected_score")
    if isinstance(expected, Mapping):  # lrsearch.recommend: the validation metrics of the recommended run
        expected = _labelled(expected, "validation")
    else:
        expected = {"expected score": expected} if _finite(expected) else {}
    expected.update(_labelled(_get(rec, "test_metrics"), "test"))
    settings = dict(_get(rec, "optimizer_params") or {})
    settings.update({k: _get(rec, k) for k in (*_SETTINGS, "activation") if _get(rec, k) is not None})
    ev = _get(rec, "evidence") or []
    return ReportRecommendation(
        optimizer=_get(rec, "optimizer"), lr=_get(rec, "lr"), schedule=_get(rec, "schedule"),
        schedule_params=dict(_get(rec, "schedule_params") or {}), settings=settings, expected=expected,
        evidence=[ev] if isinstance(ev, str) else [str(e) for e in ev], source="recommendation",
    )  # fmt: skip


def candidates_table(recommendation: Any) -> pd.DataFrame:
    """The trainings a recommendation compared (``Recommendation.candidates``), best first:
    optimizer, lr, schedule, val_loss, status and the reason of a run that did not complete."""
    rows = [{"optimizer": _get(c, "optimizer"), "lr": _get(c, "lr", math.nan), "schedule": _get(c, "schedule"),
             "val_loss": float(_get(c, "val_loss")) if _finite(_get(c, "val_loss")) else math.nan,
             "status": _get(c, "status"), "reason": _get(c, "reason")}
            for c in (_get(recommendation, "candidates", None) or ())]  # fmt: skip
    out = pd.DataFrame(rows, columns=["optimizer", "lr", "schedule", "val_loss", "status", "reason"])
    return out.sort_values("val_loss", na_position="last", kind="mergesort").reset_index(drop=True)


def _from_study(view: StudyView, rts: Sequence[Any]) -> ReportRecommendation:
    done = view.complete
    best_i = view.best_index
    best_row = done.loc[best_i]
    opt, lr, schedule, sched, settings = _best_setup(view, best_row)
    value = view.best_value if _finite(view.best_value) else float(best_row["value"])
    # lrsearch's objective is measured on the validation split; a plain study's value is whatever its author returned
    expected = {f"{view.objective} ({'' if view.plain else 'validation, '}best trial)": value}
    expected.update({f"{k} (test)": float(v) for k, v in view.best_test_metrics.items() if _finite(v)})
    s = view.summary
    evidence = [(f"best of {len(done)} complete trials ({s.get('n_trials', len(view.trials))} in all: "
                 f"{trial_counts_text(view, complete=False)})")]  # fmt: skip
    if view.plain:  # no training settings to recommend: the best trial and its parameters
        evidence[0] = f"trial #{int(best_row['number'])}, the " + evidence[0]
    tied = done[done["value"] == best_row["value"]]
    if len(tied) > 1:
        evidence.append(f"{len(tied)} trials tie at the best value ({format_value(float(best_row['value']))}); "
                        f"the earliest, #{int(best_row['number'])}, is shown")  # fmt: skip
    if s.get("interrupted"):
        evidence.append(interrupted_message(view))
    others = done.drop(index=best_i)["value"]
    if len(others):
        runner = others.max() if view.maximize else others.min()
        evidence.append(f"runner-up trial scored {format_value(float(runner))} ({view.objective})")
    note = rate_bound_note(view)
    if note:
        evidence.append(note)
    per_opt = group_summary(view, "optimizer")
    if len(per_opt) > 1:
        shown = [f"{r.optimizer} {format_value(r.best_value)}" for r in per_opt.itertuples() if _finite(r.best_value)]
        evidence.append("best per optimizer: " + ", ".join(shown))
    labels = range_test_labels(rts, view)  # the study's own and a file's, say, or two data sets
    for rt, label in zip(rts, labels):
        if _get(rt, "optimizer") == opt and _finite(_get(rt, "lr")) and _finite(lr):
            suggested = float(_get(rt, "lr"))
            where = f" ({label})" if label else ""
            evidence.append(f"the range test for {opt}{where} suggested {format_value(suggested)}, "
                            f"{_decades(float(lr), suggested):.2f} decades from the study's rate")  # fmt: skip
    message = ""
    if view.plain and not opt and not _finite(lr):
        message = (f"The best trial is #{int(best_row['number'])}"
                   + (" with the parameters below." if settings else ".")
                   + " The study samples no optimizer or learning rate (lrsearch's names for them), so there is "
                     "no training setting to recommend.")  # fmt: skip
    return ReportRecommendation(optimizer=opt, lr=float(lr) if _finite(lr) else None, schedule=schedule,
                                schedule_params=sched, settings=settings, expected=expected, evidence=evidence,
                                source="study", message=message)  # fmt: skip


#: training settings a recommendation states besides the optimizer, rate and schedule
_SETTINGS = ("batch_size", "epochs", "hidden", "clip_norm")


def _best_setup(view: StudyView, best_row: pd.Series) -> tuple[Any, Any, Any, dict[str, Any], dict[str, Any]]:
    """(optimizer, lr, schedule, schedule parameters, other settings) of the best trial.

    From the recorded training settings when there are some, else from the sampled
    parameters (``lr_<optimizer>`` is the rate, ``<schedule>_<name>`` a schedule parameter).
    """
    cfg = view.best_config
    if cfg:
        settings = dict(cfg.get("optimizer_params") or {})
        settings.update({k: cfg[k] for k in _SETTINGS if cfg.get(k) is not None})
        return cfg.get("optimizer"), cfg.get("lr"), cfg.get("schedule"), dict(cfg.get("schedule_params") or {}), settings
    params = dict(view.best_params) or {
        k[len("param_"):]: best_row[k] for k in best_row.index if k.startswith("param_") and pd.notna(best_row[k])
    }
    opt, schedule = params.get("optimizer"), params.get("schedule")
    lr = params.get("lr", params.get(f"lr_{opt}", best_row.get("param_lr")))
    prefix = f"{schedule}_" if schedule else "\0"
    sched = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
    if "warmup" in params:
        sched["warmup"] = params["warmup"]
    settings = {k: v for k, v in params.items()
                if k not in (*_LEADING_PARAMS, "warmup") and not k.startswith(("lr_", prefix))}  # fmt: skip
    return opt, lr, schedule, sched, settings


def rate_bound_note(study: Any, decades: float = 0.05) -> str | None:
    """The terminal summary's note when the best rate lies within ``decades`` of its optimizer's
    search bound (``summary["space"]["lr"][optimizer]``): the best may lie beyond it. None otherwise.

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"number": [0], "state": ["COMPLETE"], "value": [0.1]})
    >>> s = SimpleNamespace(trials=t, best_config={"optimizer": "adam", "lr": 0.0985},
    ...                     summary={"space": {"lr": {"adam": [1e-4, 0.1]}}})
    >>> rate_bound_note(s)
    "the best rate 0.0985 sits at the upper bound of adam's search (0.1): the best may lie beyond it; widen lr.adam"
    """
    from lrsearch.search.results import rate_bound_note as note  # the terminal summary's own wording

    view = study_view(study)
    if not view.has_result:
        return None
    opt, lr = _best_setup(view, view.complete.loc[view.best_index])[:2]
    bounds = ((view.summary.get("space") or {}).get("lr") or {}).get(opt)
    lr = float(lr) if _finite(lr) else None
    return note(opt, lr, bounds, aimed=view.summary.get("aim") == "finder", decades=decades)


def _dim_text(dim: Any) -> str:
    """One search dimension (``SearchSpace.to_dict()`` form) in words: a range, a choice or a fixed value."""
    if isinstance(dim, Mapping) and "low" in dim and "high" in dim:
        kind = "integers" if dim.get("int") else ("log scale" if dim.get("log") else "")
        return f"{_num_text(dim['low'])} to {_num_text(dim['high'])}" + (f" ({kind})" if kind else "")
    if isinstance(dim, Mapping) and "choices" in dim:
        return "one of " + ", ".join(_num_text(c) for c in dim["choices"])
    if isinstance(dim, (list, tuple)):
        return ", ".join(_num_text(c) for c in dim)
    return f"fixed at {_num_text(dim)}"


def _num_text(v: Any) -> str:
    if isinstance(v, (list, tuple)):  # a hidden-layer choice such as [64, 32]
        return "[" + ", ".join(map(_num_text, v)) + "]"
    return format_value(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def search_space_table(study: Any) -> pd.DataFrame:
    """The study's search space (``summary["space"]``, as ``lrsearch study`` records it) as
    ``parameter``/``searched`` rows: the optimizers and each one's rate bounds (log scale), the
    schedules and each one's parameter ranges (``<schedule>.<parameter>``), the warm-up, then any
    optional dimension (batch_size, hidden, momentum, ...). Empty when the study recorded no space.

    >>> space = {"optimizer": ["adam"], "lr": {"adam": [1e-4, 0.1]}, "schedule": ["constant", "step"],
    ...          "warmup": {"low": 0, "high": 1, "log": False, "int": True},
    ...          "step": {"gamma": {"low": 0.1, "high": 0.9, "log": False, "int": False}}}
    >>> from types import SimpleNamespace
    >>> table = search_space_table(SimpleNamespace(trials=None, summary={"space": space}))
    >>> table["parameter"].tolist()
    ['optimizer', 'lr (adam)', 'schedule', 'warmup', 'step.gamma']
    >>> table["searched"].tolist()[1:4:2]
    ['0.0001 to 0.1 (log scale)', '0 to 1 (integers)']
    """
    view = study_view(study)
    space = view.summary.get("space")
    rows: list[tuple[str, str]] = []
    if not isinstance(space, Mapping) or not space:
        return pd.DataFrame(rows, columns=["parameter", "searched"])
    optimizers = list(space.get("optimizer") or [])
    schedules = list(space.get("schedule") or [])
    if optimizers:
        rows.append(("optimizer", ", ".join(map(str, optimizers))))
    for opt, bounds in (space.get("lr") or {}).items():
        lo, hi = _pair(bounds)
        rows.append((f"lr ({opt})", f"{format_value(lo)} to {format_value(hi)} (log scale)"))
    if schedules:
        rows.append(("schedule", ", ".join(map(str, schedules))))
    if "warmup" in space:
        rows.append(("warmup", _dim_text(space["warmup"])))
    for name in schedules:
        for param, dim in (space.get(name) or {}).items():
            rows.append((f"{name}.{param}", _dim_text(dim)))
    done = {"optimizer", "lr", "schedule", "warmup", *schedules}
    rows += [(k, _dim_text(v)) for k, v in space.items() if k not in done]
    return pd.DataFrame(rows, columns=["parameter", "searched"])


def _from_range_tests(rts: Sequence[Any], *, had_study: bool, labels: Sequence[str] = ()) -> ReportRecommendation:
    labelled = list(zip(rts, [*labels, *[""] * (len(rts) - len(labels))]))
    usable = [rt for rt in rts if _finite(_get(rt, "lr"))]
    evidence = []
    for rt, label in labelled:
        if not _finite(_get(rt, "lr")):
            continue
        where = f" ({label})" if label else ""  # its data set (and file) when the tests ran on several
        line = f"range test for {_get(rt, 'optimizer')}{where}: suggested lr {format_value(float(_get(rt, 'lr')))}"
        rule = _default_rule(rt)
        evidence.append(line + (f" (rule {rule})" if rule else ""))
    msg = "The study has no complete trial, so this rests on the range tests alone. " if had_study else ""
    if len(usable) == 1:
        rt = usable[0]
        msg += "A range test suggests a rate, not a schedule or an optimizer: run lrsearch study to compare them."
        return ReportRecommendation(optimizer=_get(rt, "optimizer"), lr=float(_get(rt, "lr")), schedule=None,
                                    schedule_params={}, settings={}, expected={}, evidence=evidence,
                                    source="range test", message=msg)  # fmt: skip
    msg += "Range tests suggest one rate per optimizer but cannot rank optimizers: run lrsearch study to compare them."
    return ReportRecommendation(optimizer=None, lr=None, schedule=None, schedule_params={}, settings={}, expected={},
                                evidence=evidence, source="range test", message=msg)  # fmt: skip
