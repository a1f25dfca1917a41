"""Many machines, simulated: worker processes sharing one study on a real PostgreSQL server.

The fixture starts a throwaway cluster (tests/pg.py) and skips when no server
binaries or no psycopg2 are installed (``.ci/run`` installs Debian's postgresql).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from pg import postgres_server, skip_reason

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def pg_url():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


def _cli(url: str, name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "lrsearch", "study", "--data", "iris", "--storage", url, "--study-name", name,
            "--optimizers", "adam,sgd", "--schedules", "constant,cosine", "--no-progress", *args]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url.replace("postgresql://", "postgresql+psycopg2://"))


def test_two_worker_processes_share_one_study_and_its_trial_budget(pg_url, tmp_path):
    args = ("--n-trials", "16", "--epochs", "8", "--pruner", "none", "--json", "--studies-dir", str(tmp_path))
    procs = [subprocess.Popen(_cli(pg_url, "shared", *args), env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    results = [json.loads(out) for out, _ in outs]
    assert sum(r["summary"]["trials_this_run"] for r in results) == 16
    study = _load(pg_url, "shared")
    states = Counter(t.state.name for t in study.trials)
    assert states == {"COMPLETE": 16}  # exact total, no overshoot, nothing left RUNNING
    workers = {t.user_attrs["worker"].rsplit(":", 2)[1] for t in study.trials}
    assert workers == {str(p.pid) for p in procs}  # both machines (processes) worked on it


def test_a_killed_workers_trial_is_failed_by_heartbeat_and_retried(pg_url, tmp_path):
    from lrsearch.search import run_study

    name = "heartbeat"
    common = {"epochs": 400, "pruner": "none", "n_trials": 2}
    args = ("--n-trials", "2", "--epochs", "400", "--pruner", "none", "--heartbeat", "1",
            "--studies-dir", str(tmp_path), "--hidden", "256")  # fmt: skip
    proc = subprocess.Popen(_cli(pg_url, name, *args), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.time() + 60
    running = []
    while time.time() < deadline and not running:
        time.sleep(0.2)
        try:
            running = [t for t in _load(pg_url, name).get_trials(states=(optuna.trial.TrialState.RUNNING,))
                       if "worker" in t.user_attrs]  # fmt: skip
        except KeyError:  # not created yet
            pass
    assert running, "the worker never started a trial"
    os.kill(proc.pid, signal.SIGKILL)  # a machine dies mid-trial
    proc.wait(timeout=10)
    killed = running[0].number
    time.sleep(3.5)  # grace period: 3 x heartbeat
    res = run_study("iris", storage=pg_url, study_name=name, heartbeat_interval=1, hidden=(256,),
                    space={"optimizer": ["adam", "sgd"], "schedule": ["constant", "cosine"]},
                    results_path=False, retrain=False, **common)  # fmt: skip
    trials = {t.number: t for t in res.study.trials}
    assert trials[killed].state == optuna.trial.TrialState.FAIL
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE
    assert retries[0].params == trials[killed].params
    assert Counter(t.state.name for t in trials.values()) == {"COMPLETE": 2, "FAIL": 1}
