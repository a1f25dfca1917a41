"""Search space, study specs and storage resolution: no training here."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from lrsearch.exceptions import ConfigError
from lrsearch.nn.optimizers import make_optimizer
from lrsearch.nn.schedules import make_schedule
from lrsearch.search import (
    OPTIONAL_PARAMS,
    Range,
    StorageError,
    default_space,
    load_spec,
    mask_url,
    parse_set,
    resolve_storage,
    space_from_dict,
    spec_from_dict,
    spec_from_sources,
)

ROOT = Path(__file__).resolve().parents[1]
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sampled_trials(space, n=300, seed=0):
    """Sample ``n`` configurations with a random sampler; return (params, config) pairs."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        config = space.sample(trial)
        out.append((dict(trial.params), config))
        study.tell(trial, 0.0)
    return out


def test_conditional_parameters_appear_only_with_their_optimizer_and_schedule():
    space = default_space(30, search=list(OPTIONAL_PARAMS))
    seen_opts, seen_scheds = set(), set()
    for params, config in _sampled_trials(space):
        opt, sched = params["optimizer"], params["schedule"]
        seen_opts.add(opt)
        seen_scheds.add(sched)
        assert {k for k in params if k.startswith("lr_")} == {f"lr_{opt}"}
        assert config["lr"] == params[f"lr_{opt}"]
        low, high = space.lr[opt]
        assert low <= config["lr"] <= high
        sched_keys = {k for k in params if any(k.startswith(f"{s}_") for s in space.schedules)}
        assert sched_keys == {f"{sched}_{k}" for k in space.schedule_params[sched]}
        assert ("warmup" in params) == (sched != "one_cycle")
        assert ("momentum" in params) == (opt in ("momentum", "nesterov"))
        assert ("beta1" in params) == ("beta2" in params) == (opt in ("adam", "adamw"))
        assert ("weight_decay" in params) == (opt != "adamw")
        assert ("adamw_weight_decay" in params) == (opt == "adamw")
        assert "batch_size" in params and "hidden" in params and "clip_norm" in params
        # every configuration is valid for the core
        make_optimizer(config["optimizer"], config["optimizer_params"])
        make_schedule(config["schedule"], config["schedule_params"])
        assert isinstance(config["hidden"], tuple) and all(isinstance(h, int) for h in config["hidden"])
    assert seen_opts == set(space.optimizers) and seen_scheds == set(space.schedules)


def test_cosine_eta_min_is_a_fraction_of_the_rate_and_fixed_trials_rebuild_configs():
    space = default_space(30, optimizers=["adam"], schedules=["cosine"])
    params = {"optimizer": "adam", "lr_adam": 0.01, "schedule": "cosine", "cosine_eta_min_factor": 0.05, "warmup": 0}
    config = space.sample(optuna.trial.FixedTrial(params))
    assert config["schedule_params"] == {"eta_min": pytest.approx(5e-4)}  # warmup 0 is left out
    assert config == space.sample(optuna.trial.FixedTrial(params))


def test_default_ranges_follow_the_epochs():
    short, long = default_space(10), default_space(100)
    assert short.schedule_params["step"]["step_size"].high == 5
    assert long.schedule_params["step"]["step_size"].high == 50
    assert long.warmup == Range(0, 10, integer=True)


def test_space_round_trips_through_a_dict_and_fingerprints_differ():
    space = default_space(30, search=["batch_size", "hidden", "momentum"])
    assert space_from_dict(space.to_dict(), epochs=30) == space
    assert space.fingerprint() == space_from_dict(space.to_dict(), epochs=30).fingerprint()
    assert space.fingerprint() != default_space(30).fingerprint()


def test_space_table_overrides_and_fixed_values():
    space = space_from_dict({
        "optimizer": ["adam", "sgd"], "lr": {"adam": [1e-4, 1e-2]}, "schedule": ["step", "constant"],
        "step": {"gamma": 0.5, "step_size": [2, 4]}, "warmup": 0, "momentum": True,
    }, epochs=20)  # fmt: skip
    assert space.lr == {"adam": (1e-4, 1e-2), "sgd": (1e-3, 1.0)}
    assert space.schedule_params["step"] == {"gamma": 0.5, "step_size": Range(2, 4, integer=True)}
    assert space.optional == {"momentum": OPTIONAL_PARAMS["momentum"]}
    for params, config in _sampled_trials(space, n=50):
        assert "warmup" not in params and "step_gamma" not in params
        if config["schedule"] == "step":
            assert config["schedule_params"]["gamma"] == 0.5 and 2 <= config["schedule_params"]["step_size"] <= 4


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"optimzer": ["adam"]}, "Did you mean 'optimizer'"),
        ({"optimizer": ["adamx"]}, "unknown name 'adamx'"),
        ({"optimizer": []}, "non-empty list"),
        ({"lr": {"adam": [1e-2, 1e-4]}}, "0 < low <= high"),
        ({"lr": [0, 1]}, "0 < low <= high"),
        ({"schedule": ["constant"], "step": {"gamma": [0.1, 0.5]}}, "leaves out"),
        ({"step": {"gama": [0.1, 0.5]}}, "Did you mean 'gamma'"),
        ({"step": {"step_size": [1.5, 3]}}, "range of integers"),
        ({"inverse_time": {"decay_rate": [0, 1]}}, "log scale"),
        ({"plateau": {"factor": [0.1, 1.5]}}, "factor"),
        ({"warmup": -1}, "warmup"),
        ({"batch_size": [16, "x"]}, "positive integers"),
        ({"hidden": [[64], [0]]}, "hidden layer sizes"),
        ({"beta2": [0.9, 1.0]}, "beta2"),
    ],
)
def test_bad_space_tables_say_what_to_fix(table, message):
    with pytest.raises(ConfigError, match=message):
        space_from_dict(table)


def test_spec_from_toml_with_overrides(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[study]\nname = "t1"\ndata = "iris"\nepochs = 12\nobjective = "accuracy"\n\n'
        '[space]\noptimizer = ["adam"]\nschedule = ["constant", "cosine"]\n\n[space.lr]\nadam = [1e-4, 1e-2]\n'
    )
    spec = load_spec(path)
    assert (spec.name, spec.data, spec.epochs, spec.objective) == ("t1", "iris", 12, "accuracy")
    assert spec.space.optimizers == ("adam",) and spec.space.lr["adam"] == (1e-4, 1e-2)
    assert spec.resolved_report_every == 1
    spec2 = spec_from_sources(path, {"study.epochs": 40, "space.optimizer": ["adam", "sgd"]},
                              ["space.lr.sgd=[0.01, 0.1]", "study.sampler=random"])  # fmt: skip
    assert spec2.epochs == 40 and spec2.sampler == "random"
    assert spec2.space.lr == {"adam": (1e-4, 1e-2), "sgd": (0.01, 0.1)}
    assert spec2.space.schedule_params["cosine"] == spec.space.schedule_params["cosine"]
    assert spec2.definition() != spec.definition()
    assert spec.replace(n_trials=7).n_trials == 7 and spec.replace(n_trials=7).definition() == spec.definition()


def test_parse_set_values_are_toml_with_bare_words_as_strings():
    assert parse_set(["study.epochs=40", "study.pruner=none", 'space.hidden=[[64], [128, 64]]', "study.timeout=1.5"]) == {
        "study.epochs": 40, "study.pruner": "none", "space.hidden": [[64], [128, 64]], "study.timeout": 1.5,
    }  # fmt: skip
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_set(["epochs"])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"study": {"epochs": 0}}, "'epochs' parameter"),
        ({"study": {"epoch": 10}}, "Did you mean 'epochs'"),
        ({"study": {"sampler": "bayes"}}, "'sampler' parameter"),
        ({"study": {"objective": "auc"}}, "'objective' parameter"),
        ({"study": {"name": "no spaces please"}}, "study.name"),
        ({"study": {"report_every": 50, "epochs": 10}}, "exceeds epochs"),
        ({"studdy": {}}, "Did you mean 'study'"),
        ({"study": {"hidden": [64, -1]}}, "layer widths"),
    ],
)
def test_bad_specs_say_what_to_fix(raw, message):
    with pytest.raises(ConfigError, match=message):
        spec_from_dict(raw)


def test_spec_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nepochs = 3\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML"):
        load_spec(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[space]\noptimizer = ["adamm"]\n')
    with pytest.raises(ConfigError, match=r"wrong\.toml: .*Did you mean 'adam'"):
        load_spec(wrong)
    with pytest.raises(ConfigError, match="must start with 'study.' or 'space.'"):
        spec_from_sources(None, {"epochs": 3})


@pytest.mark.parametrize("name", ["iris_adaptive.toml", "digits.toml"])
def test_checked_in_specs_are_valid(name):
    spec = load_spec(ROOT / "studies" / name)
    assert spec.data and spec.name and spec.n_trials >= 50


def test_iris_adaptive_is_the_tutorial_experiment():
    spec = load_spec(ROOT / "studies" / "iris_adaptive.toml")
    assert set(spec.space.optimizers) == {"adagrad", "rmsprop", "adam"} and spec.data == "iris"


def test_storage_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    cfg = resolve_storage(None, "iris", studies_dir=tmp_path)
    assert cfg.kind == "journal" and cfg.location == str(tmp_path / "iris.journal")
    assert resolve_storage(str(tmp_path / "x.journal"), "a").kind == "journal"
    pg = resolve_storage("postgresql://ann:secret@db:5432/s", "a", heartbeat_interval=5)
    assert (pg.kind, pg.dialect, pg.heartbeat_interval) == ("rdb", "postgresql", 5)
    assert "secret" not in pg.masked and "***" in pg.masked
    assert resolve_storage("memory", "a").kind == "memory"
    monkeypatch.setenv("LRSEARCH_STORAGE", "sqlite:///x.db")
    assert resolve_storage(None, "a").dialect == "sqlite"
    with pytest.raises(StorageError, match="unsupported storage URL"):
        resolve_storage("mongodb://u:pw@h/db", "a")
    with pytest.raises(StorageError, match="Redis"):
        resolve_storage("redis://h", "a")
    assert mask_url("studies/a.journal") == "studies/a.journal"


def test_unreachable_database_is_a_storage_error():
    cfg = resolve_storage("postgresql://u:pw@127.0.0.1:1/db", "a")
    with pytest.raises(StorageError) as info:
        cfg.open()
    assert "pw" not in str(info.value)


def test_a_password_with_an_unencoded_at_sign_is_hidden_whole():
    """'p@ssword' was split at its '@': the mask showed 'ssword@host', and the driver's error quoted it too."""
    from lrsearch.search.storage import StorageConfig

    url = "postgresql://special:p@ssword@127.0.0.1:1/spdb"
    assert mask_url(url) == "postgresql://special:***@127.0.0.1:1/spdb"
    with pytest.raises(StorageError) as exc:
        StorageConfig("rdb", url).open()
    assert "ssword" not in str(exc.value) and "p@ss" not in str(exc.value)


def test_a_database_that_never_answers_fails_within_the_connect_timeout(monkeypatch):
    """A server that accepts and never speaks (a silent firewall, a hung server) hung the study, deaf to Ctrl-C."""
    import socket
    import threading
    import time

    pytest.importorskip("psycopg2")
    import lrsearch.search.storage as storage_mod

    monkeypatch.setattr(storage_mod, "CONNECT_TIMEOUT_S", 2)  # libpq's minimum
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            storage_mod.StorageConfig("rdb", f"postgresql://u:pw@127.0.0.1:{port}/db").open()
        except BaseException as exc:  # noqa: BLE001 - the outcome is checked below
            outcome.append(exc)

    try:
        worker = threading.Thread(target=connect, daemon=True)  # a hang fails the test instead of hanging it
        t0 = time.time()
        worker.start()
        worker.join(20)
        assert not worker.is_alive(), "the connection attempt still hangs after 20 s"
        assert time.time() - t0 < 20 and len(outcome) == 1 and isinstance(outcome[0], StorageError)
        assert "cannot open storage" in str(outcome[0])
    finally:
        listener.close()


def test_scrubbing_touches_only_what_an_unencoded_at_split_off():
    from lrsearch.search.storage import _libpq, _scrub

    msg = 'password authentication failed for user "postgres"'
    assert _scrub(msg, "postgresql://postgres:postgres@db/x") == msg  # a password without '@' is not searched for
    assert _scrub('host name "zq@127.0.0.1"', "postgresql://ann:xy@zq@127.0.0.1/x") == 'host name "***@127.0.0.1"'
    assert _libpq("postgresql://h/d") and _libpq("postgresql+psycopg2://h/d")
    assert not _libpq("postgresql+pg8000://h/d")  # pg8000's connect() takes no connect_timeout
