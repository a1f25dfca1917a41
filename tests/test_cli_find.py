"""``lrsearch find`` run in-process: the one-line answer, --json, --csv, --plot, --optimizer all, bad input."""

from __future__ import annotations

import csv
import json
import re

import pytest

from lrsearch.cli import main

LINE = re.compile(
    r"^suggested learning rate for adam: (\d\.\de[+-]\d\d) \(range (\d\.\de[+-]\d\d) to (\d\.\de[+-]\d\d), "
    r"rule: (probe|edge|valley|steepest|min/10), spread (\d+\.\d) decades, for (\d+) epochs\)$"
)
FAST = ["--data", "iris", "--hidden", "8", "--repeats", "2", "--probes", "2", "--probe-steps", "10"]


def run(capsys, *argv):
    code = main(["find", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_one_line_answer(capsys):
    code, out, err = run(capsys, *FAST, "--optimizer", "adam")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    m = LINE.match(lines[0])
    assert m, lines[0]
    lr, lo, hi = (float(m.group(i)) for i in (1, 2, 3))
    assert lo < lr <= hi and m.group(4) == "probe" and m.group(6) == "20"  # find_lr's default training length
    assert "Traceback" not in err


def test_epochs_flag_sets_the_training_the_rate_is_for(capsys):
    """--epochs reaches find_lr: the same rate as the API's for that length, said in the line and the JSON."""
    from lrsearch.data import load
    from lrsearch.finder import find_lr

    code, out, _ = run(capsys, *FAST, "--optimizer", "sgd", "--epochs", "300", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["epochs"] == 300
    api = find_lr(load("iris", seed=0), optimizer="sgd", hidden=(8,), repeats=2, probes=2, probe_steps=10,
                  epochs=300, seed=0)  # fmt: skip
    assert data["lr"] == pytest.approx(api.lr, rel=1e-12)
    code, out, _ = run(capsys, *FAST, "--optimizer", "sgd", "--epochs", "300")
    assert code == 0 and out.strip().endswith(", for 300 epochs)")
    code, _, err = run(capsys, *FAST, "--epochs", "0")
    assert code == 2 and "'epochs'" in err and "Traceback" not in err


def test_rule_option_is_used(capsys):
    code, out, _ = run(capsys, *FAST, "--rule", "valley")
    assert code == 0 and "rule: valley," in out


def test_json_parses_and_holds_the_curve(capsys):
    code, out, _ = run(capsys, *FAST, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["optimizer"] == "adam" and data["lr"] > 0
    assert len(data["lrs"]) == len(data["losses"]) == len(data["smoothed"]) == data["stop_index"] + 1
    assert set(data["suggestions"]) >= {"valley", "steepest", "min/10", "edge", "probe"}
    assert len(data["repeats"]) == 2 and data["probes"]["held_out"] == "validation split"


def test_csv_writes_the_curve(capsys, tmp_path):
    path = tmp_path / "curve.csv"
    code, out, _ = run(capsys, *FAST, "--csv", str(path))
    assert code == 0 and out.startswith("suggested learning rate")
    rows = list(csv.DictReader(path.open()))
    assert rows and {"optimizer", "step", "lr", "loss", "smoothed", "loss_repeat0"} <= set(rows[0])
    assert float(rows[0]["lr"]) == pytest.approx(1e-7) and rows[0]["optimizer"] == "adam"


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_writes_an_image(capsys, tmp_path, suffix, magic):
    path = tmp_path / f"lr{suffix}"
    code, _, _ = run(capsys, *FAST, "--plot", str(path))
    assert code == 0 and path.read_bytes().startswith(magic)


def test_optimizer_all_prints_one_row_per_optimizer(capsys):
    code, out, _ = run(capsys, *FAST, "--optimizer", "all")
    assert code == 0
    assert out.strip().endswith("lr: for a training of 20 epochs (--epochs)")
    rows = [line.split()[0] for line in out.splitlines()[1:] if line and not line.startswith(("held-out", "lr:"))]
    assert rows == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
    table = [line for line in out.splitlines()[1:] if line.split()[0] in rows]
    assert sum("*" in line for line in table) == 1  # the lowest held-out loss is marked once


def test_json_for_all_optimizers(capsys):
    code, out, _ = run(capsys, *FAST, "--optimizer", "all", "--json")
    assert code == 0 and set(json.loads(out)) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}


def test_warnings_go_to_stderr(capsys):
    code, out, err = run(capsys, *FAST, "--start-lr", "1e-9", "--end-lr", "1e-7", "--rule", "edge")
    assert code == 0 and LINE.match(out.strip()) or out.startswith("no learning rate")
    assert "warning: adam: the loss never diverged" in err and "raise end_lr" in err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["--start-lr", "1", "--end-lr", "0.1"], "end_lr must be larger than start_lr"),
        (["--start-lr", "-1"], "positive rate"),
        (["--num-iter", "1"], "at least 2 steps"),
        (["--optimizer", "lion"], "choose one of"),
        (["--repeats", "0"], "repeats"),
        (["--smoothing", "1.5"], "weight on the past"),
        (["--plot", "curve.txt"], ".png, .svg or .pdf"),
        (["--plot", "/dev/null/lr.png"], "is a file, not a folder"),
        (["--data", "no_such_set"], "unknown data set"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *FAST, *argv)
    assert code == 2
    assert "Traceback" not in err and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("lrsearch find: error:") and fragment in lines[0], err


def test_one_repeat_measures_no_spread_and_a_missing_rate_shows_a_dash(capsys):
    """'spread 0.0 decades' after one repeat claimed a measurement that was never made."""
    from types import SimpleNamespace

    from lrsearch.cli.find_cmd import _table

    assert main(["find", "--data", "iris", "--hidden", "8", "--repeats", "1", "--probes", "1", "--probe-steps",
                 "10"]) == 0  # fmt: skip
    assert "spread not measured: 1 repeat, for 20 epochs)" in capsys.readouterr().out
    nan = float("nan")
    probes = SimpleNamespace(losses=[0.0])
    ok = SimpleNamespace(lr=0.1, lr_range=(0.05, 0.2), spread_decades=0.2, repeats=(1, 2), probes=probes,
                         rule="probe", stop_reason="diverged")  # fmt: skip
    bad = SimpleNamespace(lr=nan, lr_range=(nan, nan), spread_decades=nan, repeats=(1, 2), probes=None,
                          rule="edge", stop_reason="diverged")  # fmt: skip
    table = _table({"sgd": bad, "adam": ok, "rmsprop": ok})
    assert "nan" not in table
    marked = [line for line in table.splitlines()[1:-1] if " *" in line]  # the legend's '* lowest' aside
    assert len(marked) == 1 and marked[0].startswith("adam")


def test_probes_that_cannot_run_are_warned_about(capsys):
    assert main(["find", "--data", "iris", "--hidden", "8", "--val-size", "0", "--repeats", "1"]) == 0
    out, err = capsys.readouterr()
    assert "rule: edge" in out and "the probes did not run (no held-out rows" in err
