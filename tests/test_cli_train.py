"""`lrsearch train` in-process: output, JSON, exit codes and messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrsearch.cli import main


def test_train_prints_epochs_and_test_metrics(capsys):
    code = main(["train", "--data", "iris", "--optimizer", "adam", "--lr", "0.01", "--schedule", "cosine", "--epochs", "5"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert sum(line.startswith("epoch") for line in lines) == 5
    assert lines[-1].startswith("test") and "accuracy" in lines[-1] and "f1" in lines[-1]


def test_train_json_is_parseable_and_complete(capsys):
    code = main(["train", "--data", "diabetes", "--lr", "0.01", "--epochs", "4", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["status"] == "completed" and data["epochs_run"] == 4
    assert len(data["train_loss"]) == 4 and set(data["test_metrics"]) == {"mse", "r2"}
    # regression metrics are in the target's original units (diabetes targets ~ 25..346)
    assert data["test_metrics"]["mse"] > 100


def test_train_options_reach_the_core(capsys):
    code = main(["train", "--data", "wine", "--optimizer", "momentum", "--lr", "0.05", "--opt-param", "momentum=0.5",
                 "--schedule", "step", "--schedule-param", "step_size=1", "--schedule-param", "gamma=0.5",
                 "--epochs", "3", "--hidden", "8,8", "--clip-norm", "1.0", "--layer-lrs", "1,1,0.5"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    lrs = [float(line.split("lr")[-1]) for line in out.splitlines() if line.startswith("epoch")]
    np.testing.assert_allclose(lrs, [0.05, 0.025, 0.0125])


def test_divergence_is_a_result_not_an_error(capsys):
    code = main(["train", "--data", "iris", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "diverged" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["train", "--data", "iris", "--lr", "-1"], "'lr'"),
        (["train", "--data", "no_such_set"], "no_such_set"),
        (["train", "--data", "iris", "--optimizer", "adamx"], "adamx"),
        (["train", "--data", "iris", "--schedule", "cosinus"], "cosinus"),
        (["train", "--data", "iris", "--opt-param", "momentum"], "KEY=VALUE"),
        (["train", "--data", "iris", "--opt-param", "betas=0.9"], "betas"),
        (["train", "--data", "iris", "--hidden", "a,b"], "--hidden"),
        (["train", "--data", "iris", "--layer-lrs", "1,2,3"], "layer_lrs"),
        (["train", "--data", "/no/such/file.csv"], "file.csv"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_help_lists_train(capsys):
    assert main(["--help"]) == 0  # main returns the code, for --help too
    assert "train" in capsys.readouterr().out


def test_a_bad_flag_is_one_line_with_the_way_to_help(capsys):
    """argparse printed its whole usage block (17 lines) for a flag of the wrong type."""
    assert main(["study", "--data", "iris", "--n-trials", "abc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--n-trials" in err[0] and "(see 'lrsearch study --help')" in err[0]


def test_python_dash_m_lrsearch_runs_the_cli():
    # `python -m lrsearch` is the same entry point as the `lrsearch` script: bad input exits 2 with one line
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "lrsearch", "train", "--data", "iris", "--epochs", "0"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 2 and "epochs" in out.stderr and "Traceback" not in out.stderr
