"""What a study returns: :class:`StudyResult`, the trials table and the results JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrsearch._json import jsonable

if TYPE_CHECKING:
    import optuna
    import pandas as pd

    from lrsearch.nn.training import TrainResult

__all__ = ["TRIAL_COLUMNS", "StudyProgress", "StudyResult", "range_test_summary", "trials_frame"]

#: columns every trials table has (then ``param_<name>`` for every other sampled parameter,
#: ``val_<metric>`` for the validation metrics of finished trials, ``curve_epochs``, ``worker``)
TRIAL_COLUMNS = ("number", "state", "value", "duration_s", "epochs_run", "diverged_reason",
                 "param_optimizer", "param_lr", "param_schedule", "curve")  # fmt: skip



#: a best rate this close to its search bound (in decades) gets a note: the best may lie beyond the bound
BOUND_DECADES = 0.05


def rate_bound_note(optimizer: Any, lr: Any, bounds: Any, *, aimed: bool = False,
                    decades: float = BOUND_DECADES) -> str | None:  # fmt: skip
    """A note when the best rate ``lr`` lies within ``decades`` of a bound of its optimizer's ``bounds``.

    Shared by the terminal summary and the HTML report; ``aimed``: the bounds came
    from the range test (``--aim finder``), so widening them means another study.

    >>> rate_bound_note("adam", 0.0985, [1e-4, 0.1])
    "the best rate 0.0985 sits at the upper bound of adam's search (0.1): the best may lie beyond it; widen lr.adam"
    >>> rate_bound_note("adam", 0.003, [1e-4, 0.1]) is None, rate_bound_note("sgd", 0.01, [0.01, 0.01]) is None
    (True, True)
    """
    if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2 and isinstance(lr, (int, float))
            and math.isfinite(lr) and lr > 0):  # fmt: skip
        return None
    low, high = (float(b) for b in bounds)
    if not low < high:  # a fixed rate (lr.adam = [0.01, 0.01]): there is nothing to widen by accident
        return None
    for name, bound in (("upper", high), ("lower", low)):
        if bound > 0 and abs(math.log10(lr / bound)) <= decades:
            fix = (f"the range test set this bound: run a study without --aim finder, with lr.{optimizer} reaching "
                   f"past it" if aimed else f"widen lr.{optimizer}")  # fmt: skip
            return (f"the best rate {lr:.3g} sits at the {name} bound of {optimizer}'s search ({bound:.3g}): "
                    f"the best may lie beyond it; {fix}")  # fmt: skip
    return None

@dataclass(frozen=True)
class StudyProgress:
    """A snapshot of a running study, for progress displays."""

    target: int
    complete: int
    pruned: int
    diverged: int
    failed: int
    running: int
    best_value: float | None
    best_number: int | None
    elapsed_s: float
    done_this_run: int
    eta_s: float | None

    @property
    def finished(self) -> int:
        """Trials that count toward the target and are over (complete or pruned)."""
        return self.complete + self.pruned


@dataclass(frozen=True)
class StudyResult:
    """The outcome of :func:`~lrsearch.search.run_study`.

    ``trials`` has one row per trial (see :data:`TRIAL_COLUMNS`); ``best_*``
    describe the best complete trial, retrained from scratch and scored on the
    validation and test splits (``best_result`` is that run's TrainResult);
    ``summary`` counts trials and records how the study ran. ``interrupted``
    is True after Ctrl-C (finished trials are kept; nothing is retrained).
    """

    study: optuna.Study
    study_name: str
    storage: str
    direction: str
    objective: str
    trials: pd.DataFrame
    best_params: dict[str, Any]
    best_value: float | None
    best_val_metrics: dict[str, float]
    best_test_metrics: dict[str, float]
    best_result: TrainResult | None
    summary: dict[str, Any]
    range_tests: tuple[Any, ...] = ()
    dataset_summary: dict[str, Any] = field(default_factory=dict)
    best_config: dict[str, Any] = field(default_factory=dict)
    best_number: int | None = None
    interrupted: bool = False
    results_path: Path | None = None

    def to_dict(self, *, with_trials: bool = True) -> dict[str, Any]:
        """A JSON-able dict: everything but the Optuna study and the trained weights."""
        out: dict[str, Any] = {
            "study_name": self.study_name,
            "storage": self.storage,
            # an SQLite URL may be relative: the file it named from here, for telling two databases apart
            "storage_file": _sqlite_file(self.storage),
            "objective": self.objective,
            "direction": self.direction,
            "best_number": self.best_number,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "best_config": self.best_config,
            "best_val_metrics": self.best_val_metrics,
            "best_test_metrics": self.best_test_metrics,
            "interrupted": self.interrupted,
            "summary": self.summary,
            "dataset": self.dataset_summary,
            # this run's range tests, or (a resumed aimed study runs none) the ones stored with the study
            "range_tests": [range_test_summary(rt) for rt in self.range_tests]
            or list(self.summary.get("aim_range_tests") or []),
        }
        if with_trials:
            out["trials"] = _records(self.trials)
        return jsonable(out)

    def save_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (parent directories created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        if path.exists() and not path.is_file():  # a device or pipe: write into it, never rename over it
            path.write_text(text, encoding="utf-8")
            return path
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return path


def range_test_summary(rt: Any) -> dict[str, Any]:
    """The numbers of a finder result that a study used (JSON-able)."""
    keys = ("optimizer", "lr", "lr_range", "search_bounds", "spread_decades")
    if isinstance(rt, dict):
        return jsonable(rt)
    out = {k: getattr(rt, k, None) for k in keys}
    loss = best_probe_loss(rt)
    out["probe_loss"] = loss if math.isfinite(loss) else None  # what orders an aimed study's first trials
    return jsonable(out)


def best_probe_loss(rt: Any) -> float:
    """The lowest held-out loss of a finder result's probes (``inf`` without a finite one).

    >>> from types import SimpleNamespace
    >>> best_probe_loss(SimpleNamespace(probes=SimpleNamespace(losses=[0.5, float("inf"), 0.3])))
    0.3
    >>> best_probe_loss({"probes": {"losses": [0.5, None, 0.4]}}), best_probe_loss({"probes": None})
    (0.4, inf)
    """
    def field(obj: Any, name: str, default: Any) -> Any:  # a result object, or its to_dict() form
        return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)

    probes = field(rt, "probes", None)
    values = field(probes, "losses", None)
    losses = [float(v) for v in (() if values is None else values) if v is not None and math.isfinite(float(v))]
    return min(losses) if losses else math.inf


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: state, value, duration, epochs run, divergence, parameters, curve.

    ``param_lr`` is the rate of the trial's optimizer (sampled as ``lr_<optimizer>``);
    ``curve`` lists the values reported to Optuna (the objective on the validation
    split every ``report_every`` epochs; NaN where a run diverged), ``curve_epochs``
    their epochs.
    """
    import pandas as pd

    rows = []
    param_names: set[str] = set()
    metric_names: set[str] = set()
    # a rate range of one value is not sampled (no lr_<optimizer> parameter): its value is the space's
    lr_space = (study.user_attrs.get("lrsearch:space") or {}).get("lr") or {}
    fixed = {o: float(b[0]) for o, b in lr_space.items() if isinstance(b, (list, tuple)) and len(b) == 2
             and b[0] == b[1]}  # fmt: skip
    for t in study.get_trials(deepcopy=False):
        steps = sorted(t.intermediate_values)
        duration = None
        if t.datetime_start is not None and t.datetime_complete is not None:
            duration = (t.datetime_complete - t.datetime_start).total_seconds()
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "duration_s": duration,
            "epochs_run": t.user_attrs.get("epochs_run"),
            "diverged_reason": t.user_attrs.get("diverged_reason"),
            "curve": [float(t.intermediate_values[s]) for s in steps],
            "curve_epochs": steps,
            "worker": t.user_attrs.get("worker"),
            "datetime_start": t.datetime_start,
        }
        opt = t.params.get("optimizer")
        row["param_lr"] = t.params.get(f"lr_{opt}", fixed.get(opt)) if opt is not None else None
        for name, value in t.params.items():
            row[f"param_{name}"] = value
            param_names.add(name)
        for name, value in (t.user_attrs.get("val_metrics") or {}).items():
            row[f"val_{name}"] = value
            metric_names.add(name)
        rows.append(row)
    first = ["number", "state", "value", "duration_s", "epochs_run", "diverged_reason",
             "param_optimizer", "param_lr", "param_schedule"]  # fmt: skip
    params = [f"param_{n}" for n in sorted(param_names) if f"param_{n}" not in first]
    metrics = [f"val_{n}" for n in sorted(metric_names)]
    columns = first + params + metrics + ["curve", "curve_epochs", "worker", "datetime_start"]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype({"number": "int64", "state": "object"})
    for col in ("epochs_run",):
        frame[col] = frame[col].astype("Int64")
    frame["diverged_reason"] = frame["diverged_reason"].astype(object).where(frame["diverged_reason"].notna(), None)
    return frame


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({k: jsonable(v) for k, v in row.items()})
    return records


def _sqlite_file(storage: str) -> str | None:
    """The absolute path of an SQLite storage's file (None for any other storage).

    >>> import os; _sqlite_file("sqlite:///x.db") == os.path.abspath("x.db"), _sqlite_file("a.journal")
    (True, None)
    """
    import os

    from lrsearch._validation import storage_file

    if not isinstance(storage, str) or not storage.strip().startswith("sqlite"):
        return None
    file = storage_file(storage, None)
    return None if file is None else os.path.abspath(file)
