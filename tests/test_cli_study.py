"""``lrsearch study`` in-process: exit codes, output, resume, report, Ctrl-C."""

from __future__ import annotations

import json

import optuna
import pytest

from lrsearch.cli import main

optuna.logging.set_verbosity(optuna.logging.WARNING)

FAST = ["--epochs", "4", "--optimizers", "adam,sgd", "--schedules", "constant,cosine", "--no-progress"]


def _study(tmp_path, *args):
    return ["study", "--data", "iris", "--studies-dir", str(tmp_path), *FAST, *args]


def test_study_runs_prints_a_summary_and_saves_results(tmp_path, capsys):
    assert main(_study(tmp_path, "--n-trials", "5", "--study-name", "cli")) == 0
    out = capsys.readouterr().out
    assert "study cli" in out and "best trial #" in out and "test " in out
    saved = json.loads((tmp_path / "cli.json").read_text())
    assert saved["summary"]["n_trials"] == 5 and saved["study_name"] == "cli"
    assert (tmp_path / "cli.journal").exists()


def test_json_output_and_resume(tmp_path, capsys):
    assert main(_study(tmp_path, "--n-trials", "3", "--json")) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["study_name"] == "iris" and len(first["trials"]) == 3
    assert {"number", "state", "value", "param_optimizer", "param_lr", "curve"} <= set(first["trials"][0])
    assert main(_study(tmp_path, "--n-trials", "5", "--json")) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["summary"]["trials_this_run"] == 2 and len(second["trials"]) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--optimizers", "adam,adamz"], "unknown name 'adamz'"),
        (["--set", "epochs=3"], "must start with 'study.' or 'space.'"),
        (["--set", "space.cosine.eta_min_factor=[0.1]"], "space.cosine.eta_min_factor must be"),
        (["--objective", "mse"], "does not apply to classification"),
        (["--spec", "nowhere.toml"], "does not exist"),
        (["--sampler", "bayes"], "'sampler' parameter"),
        (["--search", "momentom"], "Did you mean 'momentum'"),
        (["--storage", "mongodb://x/y"], "unsupported storage URL"),
        (["--n-jobs", "2", "--storage", "memory"], "In-memory storage is private"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, message):
    assert main(_study(tmp_path, "--n-trials", "2", *args)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.startswith("lrsearch study: error:") and "\n" not in err


def test_changed_space_for_an_existing_study_exits_2(tmp_path, capsys):
    assert main(_study(tmp_path, "--n-trials", "2")) == 0
    capsys.readouterr()
    assert main(_study(tmp_path, "--n-trials", "2", "--epochs", "5")) == 2
    err = capsys.readouterr().err
    assert "different definition (epochs: 4 -> 5" in err and "--overwrite" in err
    assert main(_study(tmp_path, "--n-trials", "2", "--epochs", "5", "--overwrite")) == 0


def test_spec_file_with_flag_overrides(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('[study]\nname = "from-spec"\ndata = "iris"\nn_trials = 50\nepochs = 3\n'
                    '[space]\noptimizer = ["adam"]\nschedule = ["constant"]\nwarmup = 0\n')  # fmt: skip
    assert main(["study", "--spec", str(spec), "--n-trials", "2", "--studies-dir", str(tmp_path), "--json",
                 "--set", "study.seed=3"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["study_name"] == "from-spec" and out["summary"]["n_trials"] == 2 and out["summary"]["seed"] == 3
    assert {t["param_optimizer"] for t in out["trials"]} == {"adam"}


def test_report_flag_writes_a_report_or_warns(tmp_path, capsys, caplog):
    target = tmp_path / "r.html"
    assert main(_study(tmp_path, "--n-trials", "3", "--report", str(target))) == 0
    try:
        from lrsearch.report import build_report  # noqa: F401
    except ImportError:
        assert not target.exists() and "skipped" in caplog.text
    else:
        assert target.exists() and target.stat().st_size > 0
        assert f"report: {target}" in capsys.readouterr().out


def test_ctrl_c_exits_130_and_keeps_trials(tmp_path, capsys, monkeypatch):
    import lrsearch.search.objective as objective

    real_train, calls = objective.train, {"n": 0}

    def interrupt_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(objective, "train", interrupt_third)
    assert main(_study(tmp_path, "--n-trials", "10", "--study-name", "cc")) == 130
    out = capsys.readouterr().out
    assert "interrupted" in out and "resume:" in out
    saved = json.loads((tmp_path / "cc.json").read_text())
    assert saved["interrupted"] and [t["state"] for t in saved["trials"]].count("FAIL") == 1


def test_interrupted_aimed_study_counts_its_queued_first_trials(tmp_path, capsys, monkeypatch):
    """Ctrl-C in the first of the finder's enqueued trials: the summary's parts add up to the trials listed, and
    the trials done (none) leave out the failed and queued ones (session 7: '3 of 10 trials' counted them)."""
    import re

    import lrsearch.search.objective as objective

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(objective, "train", interrupt)
    assert main(_study(tmp_path, "--n-trials", "10", "--study-name", "aq", "--aim", "finder")) == 130
    out = capsys.readouterr().out
    assert "no trial completed before the interruption" in out and "pruned or diverged" not in out
    line = next(x for x in out.splitlines() if x.startswith("study aq"))
    done = int(re.search(r"; (\d+) of the 10 asked for done", line).group(1))
    counts = [int(n) for n in re.findall(r"(\d+) (?:complete|pruned|failed|queued)", line)]
    # one failed (interrupted) and queued again (an aimed first trial), one queued (sgd's first trial)
    assert done == 0 and sum(counts) == 3 and "1 failed, 2 queued" in line, line
    assert "failed and queued trials do not count" in line
