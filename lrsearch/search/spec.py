"""Study specifications: a TOML file (``studies/*.toml``), overrides, validation.

A spec has two tables. ``[study]`` holds what is fixed for every trial (data,
objective, epochs, network, seed) and how the study runs (trials, sampler,
pruner); ``[space]`` holds the search space (see :func:`~lrsearch.search.space.space_from_dict`)::

    [study]
    name = "iris-adaptive"
    data = "iris"
    objective = "val_loss"
    n_trials = 60
    epochs = 60
    hidden = [16]

    [space]
    optimizer = ["adagrad", "rmsprop", "adam"]
    schedule = ["constant"]
    warmup = 0

Overrides are dotted keys with TOML values (``study.epochs=40``,
``space.step.gamma=[0.2, 0.8]``), as ``lrsearch study --set`` takes them.

>>> spec = spec_from_dict({"study": {"epochs": 20}, "space": {"optimizer": ["adam", "sgd"]}})
>>> spec.epochs, spec.space.optimizers, spec.resolved_report_every
(20, ('adam', 'sgd'), 2)
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lrsearch._validation import check_choice, check_float, check_int
from lrsearch.exceptions import ConfigError
from lrsearch.search.space import SearchSpace, _unknown_key, default_space, space_from_dict

log = logging.getLogger(__name__)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: the tomli backport (same API)
    import tomli as tomllib

__all__ = [
    "OBJECTIVES",
    "PRUNERS",
    "SAMPLERS",
    "StudySpec",
    "apply_overrides",
    "load_spec",
    "parse_set",
    "spec_from_dict",
    "spec_from_sources",
]

#: objective names per task (the metrics of :mod:`lrsearch.metrics`, plus the raw validation loss)
OBJECTIVES: Mapping[str, tuple[str, ...]] = {
    "classification": ("val_loss", "accuracy", "precision", "recall", "f1", "cross_entropy"),
    "regression": ("val_loss", "mse", "r2"),
}
SAMPLERS = ("tpe", "random", "cmaes", "qmc", "gp")
PRUNERS = ("median", "successive_halving", "hyperband", "none")
_PRUNER_ALIASES = {"sha": "successive_halving", "halving": "successive_halving", "nop": "none", None: "none"}
AIMS = ("none", "finder")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

_STUDY_KEYS = (
    "name", "data", "target", "task", "val_size", "test_size", "objective", "n_trials", "timeout", "epochs",
    "hidden", "activation", "batch_size", "dtype", "seed", "sampler", "pruner", "report_every", "aim",
    "n_jobs", "storage",
)  # fmt: skip


@dataclass(frozen=True)
class StudySpec:
    """A validated study specification (what ``studies/*.toml`` files describe).

    ``report_every=0`` means automatic (about ten reports per trial). ``n_trials``
    is the study's total across every worker and every run: re-running a study
    with the same ``n_trials`` only finishes what is missing.
    """

    space: SearchSpace
    name: str | None = None
    data: str | None = None
    target: str | list[str] | None = None
    task: str | None = None
    val_size: float = 0.2
    test_size: float = 0.2
    objective: str = "val_loss"
    n_trials: int = 100
    timeout: float | None = None
    epochs: int = 30
    hidden: tuple[int, ...] = (64,)
    activation: str = "relu"
    batch_size: int = 32
    dtype: str = "float32"
    seed: int = 0
    sampler: str = "tpe"
    pruner: str = "median"
    report_every: int = 0
    aim: str = "none"
    n_jobs: int = 1
    storage: str | None = None
    source: str = field(default="defaults", compare=False)

    @property
    def resolved_report_every(self) -> int:
        """Epochs between two reports to Optuna (auto: about ten reports per trial)."""
        return self.report_every or max(1, round(self.epochs / 10))

    def definition(self) -> dict[str, Any]:
        """What two runs of one study must share: the search space, every fixed training setting, and the
        core's defaults for what the space leaves unset (:meth:`SearchSpace.core_defaults`)."""
        return {
            "space": self.space.to_dict(),
            "defaults": self.space.core_defaults(),
            "objective": self.objective,
            "epochs": self.epochs,
            "hidden": list(self.hidden),
            "activation": self.activation,
            "batch_size": self.batch_size,
            "dtype": self.dtype,
            "seed": self.seed,
            "report_every": self.resolved_report_every,
            "aim": self.aim,
        }

    def train_kwargs(self) -> dict[str, Any]:
        """The fixed :func:`lrsearch.nn.train` arguments (a sampled config may override some)."""
        return {"epochs": self.epochs, "hidden": tuple(self.hidden), "activation": self.activation,
                "batch_size": self.batch_size, "dtype": self.dtype, "seed": self.seed}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The spec as a two-table dict (``spec_from_dict`` round-trips it)."""
        study = {k: getattr(self, k) for k in _STUDY_KEYS if getattr(self, k) is not None}
        study["hidden"] = list(self.hidden)
        return {"study": study, "space": self.space.to_dict()}

    def replace(self, **changes: Any) -> StudySpec:
        """A copy with ``[study]`` fields changed, validated again.

        Changing ``epochs`` keeps the space as it is (its epoch-based default
        ranges were set when the spec was built).
        """
        unknown = [k for k in changes if k not in _STUDY_KEYS and k != "space"]
        if unknown:
            raise ConfigError(_unknown_key(unknown[0], unknown[0], _STUDY_KEYS))
        space = changes.pop("space", self.space)
        raw = self.to_dict()["study"]
        raw.update({k: v for k, v in changes.items()})
        for k, v in changes.items():
            if v is None:
                raw.pop(k, None)
        checked = _check_study(raw, where="study")
        if isinstance(space, Mapping):
            space = space_from_dict(space, epochs=checked["epochs"])
        elif not isinstance(space, SearchSpace):
            raise ConfigError(f"space must be a SearchSpace or a [space] table; got {type(space).__name__}.")
        return replace(self, space=space, **checked)


def spec_from_dict(raw: Mapping[str, Any], *, source: str = "spec") -> StudySpec:
    """Validate a ``{"study": {...}, "space": {...}}`` dict; missing keys take the defaults."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: a spec is a table with [study] and [space]; got {type(raw).__name__}.")
    for key in raw:
        if key not in ("study", "space"):
            raise ConfigError(f"{source}: " + _unknown_key(key, key, ("study", "space")))
    study_raw = raw.get("study", {})
    if not isinstance(study_raw, Mapping):
        raise ConfigError(f"{source}: [study] must be a table; got {study_raw!r}.")
    try:
        study = _check_study(study_raw, where="study")
        space_raw = raw.get("space")
        space = (
            default_space(study["epochs"]) if space_raw is None else space_from_dict(space_raw, epochs=study["epochs"])
        )
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return StudySpec(space=space, source=source, **study)


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None) -> StudySpec:
    """Read a TOML spec and apply dotted-key ``overrides`` (``{"study.epochs": 40}``).

    Errors (missing file, TOML syntax, unknown keys, bad values) raise
    :class:`~lrsearch.exceptions.ConfigError` naming the file and the key.
    """
    return spec_from_sources(path, overrides)


def spec_from_sources(
    path: str | Path | None, overrides: Mapping[str, Any] | None = None, set_items: Sequence[str] | None = None
) -> StudySpec:
    """Defaults, then the TOML file at ``path`` (if any), then ``overrides``, then ``KEY=VALUE`` ``set_items``."""
    raw = _read_toml(path) if path is not None else {}
    if path is not None:
        raw = _data_beside_spec(raw, Path(path))
    if overrides:
        raw = apply_overrides(raw, overrides)
    if set_items:
        raw = apply_overrides(raw, parse_set(set_items))
    source = str(path) if path is not None else "command line"
    if path is not None and (overrides or set_items):
        source += " (with command-line overrides)"
    return spec_from_dict(raw, source=source)


def _data_beside_spec(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """A relative ``data`` path that names no file from the working directory but one beside the spec: that one.

    A spec is read from where the command runs (``data = "data/x.csv"`` from the
    project root), and also from its own folder (``data = "../x.csv"`` written
    next to the spec), whichever names an existing file, the working directory first.
    """
    study = raw.get("study")
    data = study.get("data") if isinstance(study, dict) else None
    if not isinstance(data, str) or not data or Path(data).is_absolute() or Path(data).exists():
        return raw
    beside = path.parent / data
    if beside.is_file():
        log.info("%s: data %r is read from beside the spec: %s", path, data, beside)
        return {**raw, "study": {**study, "data": str(beside)}}
    return raw


def _read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        hint = " (spec files live under studies/, e.g. studies/digits.toml)" if not path.parent.parts else ""
        raise ConfigError(f"study spec '{path}' does not exist{hint}; check the path.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"could not read study spec '{path}': {exc}") from None
    return raw


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``raw`` with each dotted key set (``"space.lr.adam": [1e-4, 1e-2]``).

    The first component must be ``study`` or ``space``.

    >>> apply_overrides({"study": {"epochs": 10}}, {"study.epochs": 20, "space.warmup": 0})
    {'study': {'epochs': 20}, 'space': {'warmup': 0}}
    """
    out = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        parts = [p for p in str(dotted).split(".")]
        if len(parts) < 2 or parts[0] not in ("study", "space") or not all(parts):
            raise ConfigError(
                f"Override key {dotted!r} must start with 'study.' or 'space.', such as study.epochs=40 "
                f"or space.lr.adam=[1e-4, 1e-2]."
            )
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"Override {dotted!r}: {part!r} is a value, not a table.")
            node = child
        node[parts[-1]] = value
    return out


def parse_set(items: Sequence[str] | None) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` overrides; VALUE is TOML (bare words are strings).

    >>> parse_set(["study.epochs=40", "space.optimizer=[\\"adam\\"]", "study.sampler=random"])
    {'study.epochs': 40, 'space.optimizer': ['adam'], 'study.sampler': 'random'}
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set takes KEY=VALUE such as study.epochs=40; got {item!r}.")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[key] = value
    return out


def _check_study(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate the [study] table; return StudySpec keyword arguments (defaults filled in)."""
    for key in raw:
        if key not in _STUDY_KEYS:
            raise ConfigError(_unknown_key(f"{where}.{key}", key, _STUDY_KEYS))
    owner = f"[{where}]"
    out: dict[str, Any] = {}
    name = raw.get("name")
    if name is not None:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f"{where}.name must be letters, digits, '.', '_' or '-' (at most 100, starting with a "
                              f"letter or digit); got {name!r}.")  # fmt: skip
        out["name"] = name
    for key in ("data", "storage"):
        if raw.get(key) is not None:
            if not isinstance(raw[key], str) or not raw[key]:
                raise ConfigError(f"{where}.{key} must be a non-empty string; got {raw[key]!r}.")
            out[key] = raw[key]
    target = raw.get("target")
    if target is not None:
        if not (isinstance(target, str) or (isinstance(target, list) and all(isinstance(t, str) for t in target))):
            raise ConfigError(f"{where}.target must be a column name or a list of them; got {target!r}.")
        out["target"] = target
    if raw.get("task") is not None:
        out["task"] = check_choice(raw["task"], "task", owner, ("classification", "regression"))
    for key in ("val_size", "test_size"):
        if key in raw:
            out[key] = check_float(raw[key], key, owner, low=0.0, high=1.0, high_open=True)
    all_objectives = sorted({o for objs in OBJECTIVES.values() for o in objs})
    if "objective" in raw:
        out["objective"] = check_choice(raw["objective"], "objective", owner, all_objectives)
    if "n_trials" in raw:
        out["n_trials"] = check_int(raw["n_trials"], "n_trials", owner, low=1)
    if raw.get("timeout") is not None:
        out["timeout"] = check_float(raw["timeout"], "timeout", owner, low=0.0, low_open=True,
                                     fix="Give seconds, or leave it out for no time limit.")  # fmt: skip
    out["epochs"] = check_int(raw.get("epochs", 30), "epochs", owner, low=1)
    if "hidden" in raw:
        out["hidden"] = _hidden(raw["hidden"], f"{where}.hidden")
    if "activation" in raw:
        out["activation"] = check_choice(
            raw["activation"], "activation", owner, ("relu", "tanh", "sigmoid", "identity")
        )
    if "batch_size" in raw:
        out["batch_size"] = check_int(raw["batch_size"], "batch_size", owner, low=1)
    if "dtype" in raw:
        out["dtype"] = check_choice(raw["dtype"], "dtype", owner, ("float32", "float64"))
    if "seed" in raw:
        out["seed"] = check_int(raw["seed"], "seed", owner, low=0, high=2**32 - 1)
    if "sampler" in raw:
        out["sampler"] = check_choice(str(raw["sampler"]).lower(), "sampler", owner, SAMPLERS)
    if "pruner" in raw:
        pruner = raw["pruner"]
        pruner = _PRUNER_ALIASES.get(pruner.lower() if isinstance(pruner, str) else pruner, pruner)
        out["pruner"] = check_choice(pruner, "pruner", owner, PRUNERS)
    if "report_every" in raw:
        out["report_every"] = check_int(raw["report_every"], "report_every", owner, low=0, fix="0 means automatic.")
        if out["report_every"] > out["epochs"]:
            raise ConfigError(f"{where}.report_every ({out['report_every']}) exceeds epochs ({out['epochs']}); "
                              f"lower it so that trials report at least once.")  # fmt: skip
    if "aim" in raw:
        out["aim"] = check_choice(raw["aim"], "aim", owner, AIMS)
    if "n_jobs" in raw:
        n_jobs = raw["n_jobs"]
        if n_jobs != -1:
            check_int(n_jobs, "n_jobs", owner, low=1, fix="Use -1 for all cores.")
        out["n_jobs"] = int(n_jobs)
    return out


def _hidden(value: Any, where: str) -> tuple[int, ...]:
    if isinstance(value, str):
        try:
            value = [int(t) for t in value.split(",") if t.strip()]
        except ValueError:
            value = None
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
    ):
        raise ConfigError(
            f"{where} must be a list of positive layer widths such as [64, 32] ([] for none); got {value!r}."
        )
    return tuple(value)
