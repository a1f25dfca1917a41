"""``recommend()``: which optimizer, learning rate and schedule, with the evidence.

Two methods:

* ``"finder"`` (default, seconds): the LR range test per optimizer gives a
  rate and a range; each optimizer is then trained at its suggestion with a
  constant rate, with cosine decay, and with a one-cycle schedule whose peak is
  the top of the range (one training seed each); the two with the best
  validation loss are trained on two more seeds, and the better mean wins.
  Every candidate's measured score is kept as evidence; the two are called a
  near-tie only by :func:`near_tie` (means within ``NEAR_TIE_MARGIN`` and
  overlapping seed ranges).
* ``"study"`` (minutes): an Optuna study aimed by the range test
  (:func:`lrsearch.search.run_study` with ``aim="finder"``); its best trial,
  retrained, is the recommendation. Without a ``storage`` it runs in memory
  (one worker) or, for ``n_jobs`` workers, in a temporary journal file that
  is removed afterwards (the returned study is an in-memory copy).

The choice is made on the validation split; the test split is only scored.

>>> rec = recommend("iris", optimizers=["adam"], epochs=20)   # doctest: +SKIP
>>> rec.optimizer, rec.schedule                                 # doctest: +SKIP
('adam', 'one_cycle')
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lrsearch._validation import check_bool, check_choice, check_hidden, check_int
from lrsearch.exceptions import ConfigError

__all__ = ["NEAR_TIE_MARGIN", "Candidate", "Recommendation", "near_tie", "recommend"]

log = logging.getLogger(__name__)

#: optimizers compared by default (AdamW and Nesterov differ from Adam and
#: momentum mostly through their options, which the quick method does not tune)
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")


@dataclass(frozen=True)
class Candidate:
    """One configuration the finder method trained, and what it scored."""

    optimizer: str
    lr: float
    schedule: str
    schedule_params: dict[str, Any]
    val_loss: float
    val_metrics: dict[str, float]
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class Recommendation:
    """What to use, how well it did, and why.

    ``expected_score`` holds the validation metrics of a run with this
    configuration (``val_loss`` included); ``test_metrics`` its test-split
    metrics. :meth:`train_kwargs` gives :func:`lrsearch.nn.train`'s arguments.
    """

    optimizer: str
    lr: float
    optimizer_params: dict[str, Any]
    schedule: str
    schedule_params: dict[str, Any]
    hidden: tuple[int, ...]
    activation: str
    batch_size: int
    epochs: int
    expected_score: dict[str, float]
    test_metrics: dict[str, float]
    method: str
    evidence: list[str]
    lr_range: tuple[float, float] | None = None
    candidates: tuple[Candidate, ...] = ()
    range_tests: tuple[Any, ...] = ()
    study: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    seed_check: dict[str, Any] = field(default_factory=dict)
    """The finder method's check over training seeds: ``seeds``, each top candidate's validation losses
    (``best``, ``runner_up``) and ``near_tie`` (:func:`near_tie` of the two)."""

    def train_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`lrsearch.nn.train` (or ``fit_dataset``), the seed included: training
        with them reproduces ``expected_score``."""
        return {
            "hidden": self.hidden, "activation": self.activation, "optimizer": self.optimizer, "lr": self.lr,
            "optimizer_params": dict(self.optimizer_params), "schedule": self.schedule,
            "schedule_params": dict(self.schedule_params), "epochs": self.epochs, "batch_size": self.batch_size,
            **({"seed": self.seed} if self.seed is not None else {}), **self.extra,
        }  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (no arrays, no study object)."""
        return {
            "optimizer": self.optimizer, "lr": self.lr, "optimizer_params": dict(self.optimizer_params),
            "schedule": self.schedule, "schedule_params": dict(self.schedule_params), "hidden": list(self.hidden),
            "activation": self.activation, "batch_size": self.batch_size, "epochs": self.epochs,
            "expected_score": dict(self.expected_score), "test_metrics": dict(self.test_metrics),
            "method": self.method, "evidence": list(self.evidence),
            "lr_range": list(self.lr_range) if self.lr_range else None,
            "candidates": [
                {"optimizer": c.optimizer, "lr": c.lr, "schedule": c.schedule, "schedule_params": c.schedule_params,
                 "val_loss": c.val_loss if math.isfinite(c.val_loss) else None, "status": c.status,
                 "reason": c.reason}
                for c in self.candidates
            ],
            "seed": self.seed,
            "seed_check": {k: [x if math.isfinite(x) else None for x in v] if isinstance(v, list) and k != "seeds"
                           else v for k, v in self.seed_check.items()},  # no Infinity in JSON
        }  # fmt: skip


def _schedules_for(rt: Any) -> list[tuple[str, float, dict[str, Any]]]:
    """Constant and cosine at the suggested rate; one-cycle peaking at the range's top."""
    out: list[tuple[str, float, dict[str, Any]]] = [("constant", float(rt.lr), {}), ("cosine", float(rt.lr), {})]
    top = float(rt.one_cycle_range[1]) if getattr(rt, "one_cycle_range", None) else float(rt.lr)
    if math.isfinite(top) and top > 0:
        out.append(("one_cycle", top, {}))
    return out


def _untrained_val_loss(ds: Any, common: dict[str, Any], seed: int) -> float:
    """The validation loss of the network every candidate starts from (same seed and layers), before training."""
    from lrsearch.nn import Trainer

    try:
        tr = Trainer(ds.X_train, ds.y_train, task=ds.task, hidden=common["hidden"], activation=common["activation"],
                     batch_size=common["batch_size"], seed=seed, n_classes=ds.n_classes)  # fmt: skip
        loss, _ = tr.evaluate(ds.X_val, ds.y_val)
    except Exception as exc:  # only a label for the candidates table
        log.debug("no untrained validation loss: %s", exc)
        return math.nan
    return float(loss)


def _finder_method(ds: Any, opts: Sequence[str], common: dict[str, Any], seed: int, repeats: int) -> dict[str, Any]:
    import numpy as np

    from lrsearch.evaluation import fit_dataset
    from lrsearch.finder import find_lr

    candidates: list[Candidate] = []
    range_tests = []
    fits = {}
    no_rate: list[str] = []
    untrained = _untrained_val_loss(ds, common, seed)
    for name in opts:
        rt = find_lr(ds, optimizer=name, hidden=common["hidden"], activation=common["activation"],
                     batch_size=common["batch_size"], seed=seed, repeats=repeats, epochs=common["epochs"])  # fmt: skip
        range_tests.append(rt)
        if not (math.isfinite(rt.lr) and rt.lr > 0):
            # nothing to train at: the range test says why (its last warning), and the others still compete
            why = rt.warnings[-1] if rt.warnings else f"stop: {rt.stop_reason}"
            no_rate.append(f"{name}: {why}")
            log.warning("recommend: skipping %s, whose range test gave no rate (%s)", name, why)
            continue
        for schedule, lr, sp in _schedules_for(rt):
            fit = fit_dataset(ds, optimizer=name, lr=lr, schedule=schedule, schedule_params=sp, seed=seed, **common)
            res = fit.result
            vl = res.val_loss[-1] if res.status == "completed" and len(res.val_loss) else math.inf
            reason = res.reason
            if res.status == "completed" and math.isfinite(untrained) and vl > untrained:
                # it ran, but it learnt nothing it kept: a rate too high for this schedule
                reason = f"ended worse than the untrained network (validation loss {vl:.4g} > {untrained:.4g})"
            cand = Candidate(name, lr, schedule, sp, float(vl), dict(fit.val_metrics), res.status, reason)
            candidates.append(cand)
            fits[id(cand)] = fit
            log.info("candidate %s %s lr=%.3g: val_loss %.4g (%s)", name, schedule, lr, vl, res.status)
    if not candidates:
        raise ConfigError(
            "no range test gave a learning rate (" + "; ".join(no_rate) + "); check the data for extreme values "
            "(lrsearch.data.load standardises features) and look at the range tests (lrsearch find --plot FILE)."
        )
    ranked = sorted(candidates, key=lambda c: (not math.isfinite(c.val_loss), c.val_loss))
    best = ranked[0]
    if not math.isfinite(best.val_loss):
        shown = "; ".join(f"{c.optimizer} {c.schedule} at lr {c.lr:.3g}: {c.status}" + (f" ({c.reason})" if c.reason else "")
                          for c in candidates[:6])  # fmt: skip
        more = f"; and {len(candidates) - 6} more" if len(candidates) > 6 else ""
        raise ConfigError(
            f"every candidate diverged or failed ({shown}{more}); check the data for extreme values "
            f"(lrsearch.data.load standardises features), look at the range tests (lrsearch find --plot FILE), "
            f"or try a smaller network."
        )
    # one training seed picked the best of many: train the first two again on more seeds, keep the better mean,
    # and say how far apart they are (a near-tie is common, and one seed's score is optimistic)
    seeds = [seed + k for k in range(1 + SEED_CHECKS)]
    runner = ranked[1] if len(ranked) > 1 and math.isfinite(ranked[1].val_loss) else None
    losses = {id(c): [c.val_loss] + [_val_loss(fit_dataset(ds, optimizer=c.optimizer, lr=c.lr, schedule=c.schedule,
                                                           schedule_params=c.schedule_params, seed=s, **common))
                                     for s in seeds[1:]]
              for c in (best, runner) if c is not None}  # fmt: skip
    swapped = runner is not None and np.mean(losses[id(runner)]) < np.mean(losses[id(best)])
    if swapped:
        best, runner = runner, best
    fit = fits[id(best)]
    rt_best = next(rt for rt in range_tests if rt.optimizer == best.optimizer)
    seed_check = {"seeds": seeds, "best": losses[id(best)], "runner_up": losses[id(runner)] if runner else None}
    rank = ("second of" if swapped else "best of")
    evidence = [
        f"{best.optimizer} with {best.schedule} at lr {best.lr:.3g}: validation loss {best.val_loss:.4g} "
        f"(seed {seed}), {rank} {len(candidates)} trainings ({len(opts)} optimizers x constant/cosine/one-cycle) "
        f"of {common['epochs']} epochs each on that seed, and the better of the first two by their mean over "
        f"{len(seeds)} seeds"
    ]
    constant = _constant_answer(ds)
    if math.isfinite(constant) and not best.val_loss < constant:
        evidence.insert(0, f"warning: the best candidate's validation loss ({best.val_loss:.4g}) is no better than "
                           f"a constant answer's ({constant:.4g}, the class prior or the training mean): nothing "
                           "here learned the target; check the features (their scale: lrsearch.load standardises), "
                           "the network, or whether X predicts y")  # fmt: skip
    def over_seeds(name: str, values: list[float]) -> str:
        bad = sum(not math.isfinite(v) for v in values)
        if bad:
            return f"{name} diverged or failed on {bad} of {len(values)} seeds"
        return f"{name} {np.mean(values):.4g} on average ({min(values):.4g} to {max(values):.4g})"

    b = losses[id(best)]
    line = f"over training seeds {seeds[0]} to {seeds[-1]}: " + over_seeds(f"{best.optimizer} {best.schedule}", b)
    if runner is not None:
        r_l = losses[id(runner)]
        line += ", runner-up " + over_seeds(f"{runner.optimizer} {runner.schedule}", r_l)
        line += _seed_verdict(b, r_l)
    seed_check["near_tie"] = runner is not None and near_tie(b, losses[id(runner)])
    evidence.append(line)
    if runner is not None:
        r = runner
        evidence.append(f"runner-up: {r.optimizer} with {r.schedule} at lr {r.lr:.3g}: validation loss "
                        f"{r.val_loss:.4g} (seed {seed})")  # fmt: skip
    evidence.append(
        f"range test for {best.optimizer}: suggested {rt_best.lr:.3g} (rule {rt_best.rule}), "
        f"range {rt_best.lr_range[0]:.3g} to {rt_best.lr_range[1]:.3g}, spread {rt_best.spread_decades:.2f} decades"
    )
    evidence += [f"warning ({rt_best.optimizer}): {w}" for w in rt_best.warnings]
    evidence += [f"not trained (the range test gave no rate): {n}" for n in no_rate]
    return {
        "optimizer": best.optimizer, "lr": best.lr, "optimizer_params": {}, "schedule": best.schedule,
        "schedule_params": best.schedule_params, "expected_score": {"val_loss": best.val_loss, **best.val_metrics},
        "test_metrics": dict(fit.test_metrics), "evidence": evidence, "lr_range": tuple(rt_best.lr_range),
        "candidates": tuple(ranked), "range_tests": tuple(range_tests), "seed": seed, "seed_check": seed_check,
    }  # fmt: skip


#: the finder method trains its first two candidates on this many more seeds before choosing
SEED_CHECKS = 2

#: a runner-up whose mean validation loss over the seeds is at most this fraction above the winner's
#: (and whose seed range overlaps the winner's) is a near-tie: see :func:`near_tie`
NEAR_TIE_MARGIN = 0.10


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def near_tie(best: Sequence[float], runner_up: Sequence[float], margin: float = NEAR_TIE_MARGIN) -> bool:
    """Whether two candidates' validation losses over the same training seeds make a near-tie
    ("either will do"): ``best`` is the winner's (the lower mean), ``runner_up`` the other's.

    A near-tie needs all three of:

    * every loss finite (a candidate that diverged on a seed is never "either will do");
    * the means close: the runner-up's mean at most ``margin`` (default ``NEAR_TIE_MARGIN``,
      10%) above the winner's, so the difference is small next to the loss itself;
    * the seed ranges overlapping (``[min, max]`` of each intersect), so the difference is
      within what changing the seed does.

    Overlapping ranges alone are no tie: a single unlucky seed (one loss of 10 beside
    two near 0) widens a range over the other's while the means differ many-fold.

    >>> near_tie([0.30, 0.32, 0.31], [0.31, 0.33, 0.30])   # 1.1% apart, ranges overlap
    True
    >>> near_tie([1e-15, 0.048, 3e-4], [4e-12, 10.5, 2e-4])  # ranges overlap, means 200-fold apart
    False
    >>> near_tie([0.30, 0.30, 0.30], [0.31, 0.31, 0.31])   # 3% apart, but every seed of one beats the other's
    False
    """
    b, r = [float(v) for v in best], [float(v) for v in runner_up]
    if not b or not r or not all(math.isfinite(v) for v in b + r):
        return False
    mb, mr = _mean(b), _mean(r)
    close = abs(mr - mb) <= margin * min(abs(mb), abs(mr))  # relative to the lower mean: the order does not matter
    overlap = max(b) >= min(r) and max(r) >= min(b)
    return close and overlap


def _seed_verdict(best: Sequence[float], runner_up: Sequence[float], margin: float = NEAR_TIE_MARGIN) -> str:
    """The evidence's words on the seed check: a near-tie (:func:`near_tie`), or how far ahead the winner is.

    Both candidates trained on the same seeds, so the count of seeds on which the winner is lower is paired.
    Nothing when a loss is not finite (the evidence already says which candidate diverged).

    >>> _seed_verdict([0.30, 0.32, 0.31], [0.31, 0.33, 0.30])
    '; a near-tie (means 1.1% apart, within 10%, and seed ranges overlapping): either will do'
    >>> _seed_verdict([1e-15, 0.048, 3e-4], [4e-12, 10.5, 2e-4])[:78]
    "; the winner is ahead: the runner-up's mean is 217 times the winner's (a tie n"
    """
    b, r = [float(v) for v in best], [float(v) for v in runner_up]
    if not b or len(b) != len(r) or not all(math.isfinite(v) for v in b + r):
        return ""
    mb, mr = _mean(b), _mean(r)
    if mb > 0 and mr >= 2 * mb:
        gap = f"{mr / mb:.3g} times the winner's"
    elif mb > 0:
        gap = f"{(mr - mb) / mb:.1%} above the winner's"
    else:
        gap = f"{mr:.4g}, the winner's {mb:.4g}"
    if near_tie(b, r, margin):
        apart = f"{abs(mr - mb) / abs(mb):.1%} apart" if mb else "equal"
        return f"; a near-tie (means {apart}, within {margin:.0%}, and seed ranges overlapping): either will do"
    overlap = max(b) >= min(r) and max(r) >= min(b)
    return (f"; the winner is ahead: the runner-up's mean is {gap} (a tie needs the means within {margin:.0%} "
            f"and the seed ranges overlapping" + ("" if overlap else "; its range lies wholly above the winner's")
            + f"), and the winner is lower on {sum(x < y for x, y in zip(b, r))} of the {len(b)} seeds")


def _val_loss(fit: Any) -> float:
    res = fit.result
    return float(res.val_loss[-1]) if res.status == "completed" and len(res.val_loss) else math.inf


def _constant_answer(ds: Any) -> float:
    """The validation loss of the best constant answer (the class prior, the training mean), NaN if unknown."""
    import numpy as np

    from lrsearch.finder import constant_loss

    try:
        return constant_loss(np.asarray(ds.y_train), np.asarray(ds.y_val), ds.task, ds.n_classes)
    except Exception as exc:  # a label only
        log.debug("no constant-answer loss: %s", exc)
        return math.nan


@contextlib.contextmanager
def _study_storage(storage: Any, n_jobs: int) -> Iterator[tuple[Any, bool]]:
    """The storage a study of ``n_jobs`` workers runs on, and whether it is a temporary journal.

    ``storage`` when given; else ``"memory"`` for one worker, else a journal file in a
    temporary folder (worker processes need a storage they can share), removed on exit.
    """
    if storage is not None or n_jobs == 1:
        yield (storage or "memory"), False
        return
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="lrsearch-recommend-") as tmp:
        yield str(Path(tmp) / "recommend.journal"), True


def _in_memory_copy(result: Any, journal: str) -> Any:
    """``result`` with its study copied from the temporary ``journal`` into memory (the file is about to go)."""
    import dataclasses

    import optuna

    from lrsearch.search.runner import quiet_optuna
    from lrsearch.search.storage import resolve_storage

    source = resolve_storage(journal, result.study_name).open()
    memory = optuna.storages.InMemoryStorage()
    with quiet_optuna():  # no "A new study created in memory" line, as during the study
        optuna.copy_study(from_study_name=result.study_name, from_storage=source, to_storage=memory)
        study = optuna.load_study(study_name=result.study_name, storage=memory)
    return dataclasses.replace(result, study=study, storage="memory (a temporary journal while the workers ran)",
                               results_path=None)  # fmt: skip


def _study_method(ds: Any, opts: Sequence[str], common: dict[str, Any], seed: int, n_trials: int, n_jobs: int,
                  storage: Any, study_name: str | None, overwrite: bool = False) -> dict[str, Any]:  # fmt: skip
    from lrsearch.search import default_space, run_study
    from lrsearch.search.runner import default_study_name

    space = default_space(epochs=common["epochs"], optimizers=tuple(opts))
    # its own default name: a `lrsearch study` of the data set (same storage, same results file) is not touched
    name = study_name or f"{default_study_name(ds)}-recommend"
    with _study_storage(storage, n_jobs) as (where, temporary):
        result = run_study(ds, study_name=name, storage=where, n_jobs=n_jobs, n_trials=n_trials,
                           overwrite=overwrite,
                           epochs=common["epochs"], seed=seed, aim="finder", space=space, hidden=common["hidden"],
                           batch_size=common["batch_size"], activation=common["activation"],
                           **({"results_path": False} if temporary else {}))  # fmt: skip
        if result.interrupted:  # Ctrl-C: no recommendation from a study cut short; say where its trials are
            done = result.summary.get("complete", 0)
            if temporary or where == "memory":
                where_now = ("they were in memory and are gone: pass storage= (--storage FILE.journal) to keep a "
                             "study you may interrupt")  # fmt: skip
            else:
                where_now = f"they are kept in {result.storage}: run the same command again to resume"
            log.warning("recommend: the study was interrupted after %d complete trials; %s", done, where_now)
            raise KeyboardInterrupt
        if temporary:
            result = _in_memory_copy(result, where)
    cfg = dict(result.best_config)
    if not cfg:
        raise ConfigError(f"the study finished no trial ({result.summary}); raise n_trials or check the data.")
    s = result.summary
    evidence = [
        f"best of {s.get('complete', 0)} complete trials (and {s.get('pruned', 0)} pruned, {s.get('diverged', 0)} of "
        f"them diverged) "
        f"of an Optuna study aimed by the range test; {result.objective} {result.best_value:.4g} (seed {seed}: one "
        f"training each, so the best of many is an optimistic estimate)",
    ]
    constant = _constant_answer(ds)
    if result.objective == "val_loss" and math.isfinite(constant) and not result.best_value < constant:
        evidence.insert(0, f"warning: the best trial's validation loss ({result.best_value:.4g}) is no better than a "
                           f"constant answer's ({constant:.4g}, the class prior or the training mean): nothing here "
                           "learned the target")  # fmt: skip
    trials = result.trials
    if len(trials) and "state" in trials:
        done = trials[trials["state"] == "COMPLETE"].sort_values(
            "value", ascending=result.direction == "minimize", kind="mergesort")  # fmt: skip
        if len(done) > 1:
            r = done.iloc[1]
            lr = r.get("param_lr")
            at = f" at lr {float(lr):.3g}" if lr is not None and math.isfinite(float(lr)) else ""
            evidence.append(f"runner-up: trial #{int(r['number'])}, {r.get('param_optimizer')} with "
                            f"{r.get('param_schedule')}{at}: {result.objective} {float(r['value']):.4g}")  # fmt: skip
    from lrsearch.search.results import rate_bound_note

    bound = rate_bound_note(cfg["optimizer"], cfg.get("lr"), (s.get("space") or {}).get("lr", {}).get(cfg["optimizer"]),
                            aimed=True)  # fmt: skip
    if bound:
        evidence.append(f"note: {bound}")
    rt = next((t for t in result.range_tests if getattr(t, "optimizer", None) == cfg["optimizer"]), None)
    lr_range = tuple(rt.lr_range) if rt is not None and getattr(rt, "lr_range", None) else None
    if rt is not None:
        evidence.append(f"range test for {rt.optimizer}: suggested {rt.lr:.3g}, range {rt.lr_range[0]:.3g} to "
                        f"{rt.lr_range[1]:.3g}")  # fmt: skip
        evidence += [f"warning ({rt.optimizer}): {w}" for w in rt.warnings]
    return {
        "lr_range": lr_range, "seed": seed,
        "optimizer": cfg["optimizer"], "lr": float(cfg["lr"]), "optimizer_params": dict(cfg.get("optimizer_params") or {}),
        "schedule": cfg.get("schedule", "constant"), "schedule_params": dict(cfg.get("schedule_params") or {}),
        "expected_score": ({"val_loss": float(result.best_value)} if result.objective == "val_loss" else {})
        | dict(result.best_val_metrics), "test_metrics": dict(result.best_test_metrics),
        "evidence": evidence, "range_tests": tuple(result.range_tests), "study": result,
        "extra": {k: v for k, v in cfg.items() if k in ("clip_norm", "clip_value", "layer_lrs")},
        "epochs": int(cfg.get("epochs", common["epochs"])), "batch_size": int(cfg.get("batch_size", common["batch_size"])),
        "hidden": tuple(cfg.get("hidden", common["hidden"])),
    }  # fmt: skip


def recommend(
    data: Any,
    y: Any = None,
    *,
    method: str = "finder",
    optimizers: Sequence[str] | None = None,
    hidden: Sequence[int] = (64,),
    activation: str = "relu",
    batch_size: int = 32,
    epochs: int = 30,
    task: str | None = None,
    seed: int = 0,
    repeats: int = 3,
    n_trials: int = 60,
    n_jobs: int = 1,
    storage: Any = None,
    study_name: str | None = None,
    overwrite: bool = False,
) -> Recommendation:
    """Recommend an optimizer, a base rate and a schedule for this network on this data.

    ``optimizers``: the ones to compare (default ``DEFAULT_OPTIMIZERS``), or
    ``"all"`` for every optimizer of the core.
    ``data`` is a data-set name or path (loaded and standardised by
    :func:`lrsearch.data.load`: the rate is for its standardised splits), a
    :class:`~lrsearch.data.Dataset`, or a feature array with targets ``y`` (used
    in its own units, as :func:`lrsearch.find_lr` uses arrays: the rate is for
    ``train(X, y, **rec.train_kwargs())``). ``method`` is ``"finder"`` (range tests
    plus a few measured trainings) or ``"study"`` (an Optuna study aimed by the
    range test; ``n_trials``, ``n_jobs``, ``storage``, ``study_name``,
    ``overwrite`` (delete a stored study of that name first) apply;
    ``n_jobs`` > 1 without a ``storage`` runs on a temporary journal file; the
    study is named ``study_name``, by default the data set's name followed by
    ``-recommend``, so that it never resumes or overwrites a ``lrsearch study``
    of the data set kept in the same storage).
    Bad arguments raise :class:`~lrsearch.exceptions.ConfigError` naming
    recommend's own parameter, before any work.
    """
    from lrsearch.data import Dataset, load
    from lrsearch.nn import ACTIVATIONS, OPTIMIZERS

    owner = "recommend"
    check_choice(method, "method", owner, ["finder", "study"])
    if optimizers == "all":  # every optimizer of the core, as `lrsearch find --optimizer all`
        optimizers = tuple(OPTIMIZERS)
    if isinstance(optimizers, str):
        raise ConfigError(f"The 'optimizers' parameter of {owner} must be a list of optimizer names such as "
                          f"['adam', 'sgd'], or 'all'. Got {optimizers!r} instead.")  # fmt: skip
    opts = list(DEFAULT_OPTIMIZERS if optimizers is None else optimizers)
    if not opts:
        raise ConfigError("optimizers is empty; name at least one of: " + ", ".join(OPTIMIZERS) + ".")
    for name in opts:
        check_choice(name, "optimizers", owner, OPTIMIZERS)
    epochs = check_int(epochs, "epochs", owner, low=1)
    batch_size = check_int(batch_size, "batch_size", owner, low=1)
    # train's own checks of hidden and activation, in recommend's name (the task is checked when the data loads)
    hidden_t = check_hidden(hidden, owner)
    check_choice(activation, "activation", owner, ACTIVATIONS)
    repeats = check_int(repeats, "repeats", owner, low=1, fix="It is the number of range tests per optimizer.")
    seed = check_int(seed, "seed", owner, low=0)
    n_trials = check_int(n_trials, "n_trials", owner, low=1)
    check_bool(overwrite, "overwrite", owner)
    if n_jobs != -1:
        n_jobs = check_int(n_jobs, "n_jobs", owner, low=1, fix="Use -1 for one worker per core.")
    if method == "finder":  # the study's own arguments would be ignored: say so instead
        given = [name for name, value, default in (("storage", storage, None), ("study_name", study_name, None),
                                                   ("overwrite", overwrite, False), ("n_jobs", n_jobs, 1),
                                                   ("n_trials", n_trials, 60)) if value != default]  # fmt: skip
        if given:
            raise ConfigError(f"{', '.join(given)} apply to method='study' only (the finder method runs no study); "
                              f"pass method='study', or drop {', '.join(given)}.")  # fmt: skip
    if isinstance(data, Dataset):
        if task is not None and task != data.task:
            raise ConfigError(f"task={task!r} does not match the data set's task {data.task!r}; leave task=None "
                              "(a loaded Dataset knows its task).")  # fmt: skip
        ds = data
    elif y is not None:
        # arrays are used as given, as find_lr uses them: the rate is for the user's X and y, which a
        # standardised copy would not be (train(X, y, **rec.train_kwargs()) must work on them)
        ds = load((data, y), task=task, seed=seed, scale=False)
    else:
        ds = load(data, task=task, seed=seed)
    common = {"hidden": hidden_t, "activation": activation, "batch_size": batch_size, "epochs": epochs}
    if method == "finder":
        out = _finder_method(ds, opts, common, seed, repeats)
    else:
        out = _study_method(ds, opts, common, seed, n_trials, n_jobs, storage, study_name, overwrite)
    fields: dict[str, Any] = {"hidden": hidden_t, "activation": activation, "batch_size": batch_size, "epochs": epochs}
    fields.update(out)
    return Recommendation(method=method, **fields)



class _CallableModule(types.ModuleType):
    """This module, callable as :func:`recommend`.

    Importing ``lrsearch.recommend`` (the CLI does) makes Python set the package
    attribute ``lrsearch.recommend`` to this module, where the public API promises
    the function; calling the module therefore calls the function, so
    ``lrsearch.recommend(ds)`` and ``from lrsearch import recommend`` work either way.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Recommendation:
        return recommend(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
