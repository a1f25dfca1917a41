"""What a user of ``lrsearch find``, ``recommend`` and ``report`` sees when an output cannot be written,
an input file was edited by hand, or a flag does not fit: exit 2, one line naming the problem and the
fix, and never a lost result (results are printed before the file that failed)."""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from lrsearch.cli import build_parser, main
from lrsearch.exceptions import ConfigError

FIND = ["--data", "iris", "--hidden", "8", "--repeats", "1", "--probes", "0", "--num-iter", "30"]
RECOMMEND = ["--data", "iris", "--hidden", "8", "--optimizers", "adam", "--epochs", "2"]
HAS_PROC = Path("/proc/self").is_dir()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "error:" in line]


def one_error(err: str, command: str) -> str:
    """The single error line of ``err`` (there must be exactly one, and no traceback)."""
    assert "Traceback" not in err and "internal error" not in err, err
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith(f"lrsearch {command}: error: "), err
    return lines[0]


@pytest.fixture
def no_work(monkeypatch):
    """Make the work itself fail loudly: a test using this proves an error came before any work."""

    def forbid(module: str, name: str) -> None:
        mod = importlib.import_module(module)

        @functools.wraps(getattr(mod, name))  # the same signature: the CLI reads its defaults from it
        def forbidden(*args, **kwargs):
            raise AssertionError("the work ran although the input was bad")

        monkeypatch.setattr(mod, name, forbidden)

    forbid("lrsearch.finder", "find_lr")
    forbid("lrsearch.finder", "find_lr_all")
    forbid("lrsearch.recommend", "recommend")


# ----------------------------------------------------------------------------- 1. find --csv / --plot


@pytest.mark.parametrize(("flag", "name", "example"), [("--csv", "adir", "curve.csv"), ("--plot", "adir.png", "lr.png")])
def test_find_output_that_is_a_folder_fails_before_the_work(capsys, tmp_path, no_work, flag, name, example):
    folder = tmp_path / name
    folder.mkdir()
    code, out, err = run(capsys, "find", *FIND, flag, str(folder))
    assert code == 2 and out == ""
    line = one_error(err, "find")
    assert f"{flag} {str(folder)!r} is a folder" in line and example in line


def test_find_output_under_a_file_fails_before_the_work(capsys, tmp_path, no_work):
    (tmp_path / "somefile.csv").write_text("x")
    code, out, err = run(capsys, "find", *FIND, "--plot", str(tmp_path / "somefile.csv" / "lr.png"))
    assert code == 2 and out == ""
    assert "is a file, not a folder" in one_error(err, "find")


@pytest.mark.parametrize("flag", ["--plot", "--csv"])
def test_find_prints_the_result_before_a_write_that_fails(capsys, tmp_path, monkeypatch, flag):
    from lrsearch.cli import find_cmd
    from lrsearch.report import plot_finder

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(plot_finder, "save_range_test_plot", refuse)
    monkeypatch.setattr(find_cmd, "_write_csv", refuse)
    path = tmp_path / ("lr.png" if flag == "--plot" else "curve.csv")
    code, out, err = run(capsys, "find", *FIND, flag, str(path))
    assert code == 2
    assert out.startswith("suggested learning rate for adam: ")  # the result is not lost
    line = one_error(err, "find")
    assert f"could not write {flag} {str(path)!r} (Permission denied)" in line and f"another {flag} path" in line


@pytest.mark.skipif(not HAS_PROC, reason="needs Linux /proc")
@pytest.mark.parametrize(("command", "flag", "path", "result"), [
    ("find", "--plot", "/proc/lrsearch-test.png", "suggested learning rate for adam: "),
    ("recommend", "--report", "/proc/lrsearch-test.html", "recommended: adam"),
])  # fmt: skip
def test_an_output_under_proc_exits_2_with_one_line(capsys, command, flag, path, result):
    """Root passes the writability check and fails on the write (result printed); others fail up front."""
    args = FIND if command == "find" else RECOMMEND
    code, out, err = run(capsys, command, *args, flag, path)
    assert code == 2
    assert out == "" or out.startswith(result)
    assert path in one_error(err, command)


# ----------------------------------------------------------------------------- 9. find --val-size 0 --validation


def test_find_validation_without_a_validation_split_names_the_cli_flag(capsys):
    code, out, err = run(capsys, "find", *FIND, "--val-size", "0", "--validation")
    assert code == 2 and out == ""
    line = one_error(err, "find")
    assert "--val-size above 0" in line and "25 rows" not in line


def test_find_lr_keeps_its_api_message():
    from lrsearch.data import load
    from lrsearch.finder import find_lr

    ds = load("iris", val_size=0, seed=0)
    with pytest.raises(ConfigError, match="validation=True needs held-out rows"):
        find_lr(ds, validation=True, repeats=1, probes=0, num_iter=10, hidden=(4,))


# ----------------------------------------------------------------------------- 2. recommend --report


def test_recommend_report_that_is_a_folder_fails_before_the_work(capsys, tmp_path, no_work):
    code, out, err = run(capsys, "recommend", *RECOMMEND, "--report", str(tmp_path))
    assert code == 2 and out == ""
    assert "is a folder" in one_error(err, "recommend")


@pytest.mark.parametrize("as_json", [False, True])
def test_recommend_prints_the_results_before_a_report_that_fails(capsys, tmp_path, monkeypatch, as_json):
    import lrsearch.report

    def refuse(path, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(lrsearch.report, "build_report", refuse)
    report = tmp_path / "rec.html"
    code, out, err = run(capsys, "recommend", *RECOMMEND, "--report", str(report), *(["--json"] if as_json else []))
    assert code == 2
    if as_json:
        assert json.loads(out)["optimizer"] == "adam"
    else:
        assert out.startswith("recommended: adam, lr ") and "expected (validation):" in out and "report:" not in out
    line = one_error(err, "recommend")
    assert f"could not write the report {str(report)!r} (No such file or directory)" in line
    assert "re-run with another --report path" in line




def test_recommend_report_is_written_after_the_results(capsys, tmp_path):
    report = tmp_path / "rec.html"
    code, out, err = run(capsys, "recommend", *RECOMMEND, "--report", str(report))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("recommended: adam") and lines[-1] == f"report: {report}"
    assert "lrsearch recommendation: iris" in report.read_text()


# ----------------------------------------------------------------------------- 3. report --out


@pytest.fixture
def find_json(tmp_path):
    """A range-test result as 'lrsearch find --json' writes it (the fields the report reads)."""
    data = {
        "optimizer": "adam", "lrs": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1], "losses": [1.0, 0.9, 0.5, 0.7, None],
        "smoothed": [1.0, 0.95, 0.7, 0.7, None], "stop_reason": "diverged", "lr": 1e-3, "lr_range": [1e-4, 1e-2],
        "one_cycle_range": [1e-4, 1e-2], "spread_decades": 0.1, "warnings": ["noisy curve"], "rule": "valley",
        "mode": "exp", "smoothing": 0.98,
        "suggestions": {"valley": {"rule": "valley", "lr": 1e-3, "index": 2, "loss": 0.5}},
        "curves": [{"seed": 0, "stop_reason": "diverged", "stop_index": 4, "losses": [1.0, 0.9, 0.5, 0.7, None]}],
    }  # fmt: skip
    path = tmp_path / "find.json"
    path.write_text(json.dumps(data))
    return path


def test_report_from_a_good_find_json(capsys, tmp_path, find_json):
    out = tmp_path / "find.html"
    code, stdout, err = run(capsys, "report", "--find-json", str(find_json), "--out", str(out))
    assert code == 0, err
    assert stdout.strip() == f"wrote {out}" and "noisy curve" in out.read_text()


@pytest.mark.parametrize(
    ("make_out", "message"),
    [
        (lambda tmp: tmp / "afile.csv" / "x.html", "afile.csv' is a file, not a folder"),
        (lambda tmp: tmp, "is a folder"),
        pytest.param(lambda tmp: Path("/proc/lrsearch-test.html"), "/proc/lrsearch-test.html",
                     marks=pytest.mark.skipif(not HAS_PROC, reason="needs Linux /proc")),
    ],
)
def test_report_out_that_cannot_be_written_exits_2(capsys, tmp_path, find_json, make_out, message):
    (tmp_path / "afile.csv").write_text("x")
    out = make_out(tmp_path)
    code, stdout, err = run(capsys, "report", "--find-json", str(find_json), "--out", str(out))
    assert code == 2 and stdout == ""
    assert message in one_error(err, "report")


# ----------------------------------------------------------------------------- 4. report --find-json, edited by hand


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: {**d, "lr": "abc"}, "'lr' must be a number"),
        (lambda d: {**d, "lr": True}, "'lr' must be a number"),
        (lambda d: {**d, "lrs": "abc"}, "'lrs' must be a list of numbers"),
        (lambda d: {**d, "lrs": [1e-5, "x", 1e-3, 1e-2, 1e-1]}, "'lrs' must be a list of numbers"),
        (lambda d: {**d, "losses": [1.0, 0.9]}, "'losses' has 2 values but 'lrs' has 5"),
        (lambda d: {**d, "lr_range": 5}, "'lr_range' must be a list of two numbers"),
        (lambda d: {**d, "warnings": "abc"}, "'warnings' must be a list of strings"),
        (lambda d: {**d, "optimizer": 3}, "'optimizer' must be an optimizer name"),
        (lambda d: {**d, "suggestions": {"valley": {"lr": "x"}}}, "'suggestions.valley.lr' must be a number"),
        (lambda d: {**d, "suggestions": {"valley": {"lr": 1e-3, "index": 99}}}, "'suggestions.valley.index' must be"),
        (lambda d: {**d, "curves": [{"losses": "x"}]}, "'curves[0].losses' must be a list of numbers"),
        (lambda d: [d, {**d, "lr": "abc"}], "entry 1, field 'lr'"),
        (lambda d: [1, 2], "is not a range-test result"),
        (lambda d: "adam", "is not a range-test result"),
    ],
)
def test_report_names_the_file_and_the_field_of_a_bad_find_json(capsys, tmp_path, find_json, edit, field):
    find_json.write_text(json.dumps(edit(json.loads(find_json.read_text()))))
    out = tmp_path / "x.html"
    code, stdout, err = run(capsys, "report", "--find-json", str(find_json), "--out", str(out))
    assert code == 2 and stdout == "" and not out.exists()
    line = one_error(err, "report")
    assert f"--find-json {str(find_json)!r}" in line and field in line and "lrsearch find ... --json" in line


# ----------------------------------------------------------------------------- 5. recommend(hidden=..., repeats=...)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden": "64"}, "The 'hidden' parameter of recommend must be a sequence of layer widths"),
        ({"hidden": (0,)}, "The 'hidden' parameter of recommend must be an int in the range [1, inf]"),
        ({"hidden": (8.5,)}, "The 'hidden' parameter of recommend"),
        ({"repeats": 0}, "The 'repeats' parameter of recommend"),
        ({"activation": "gelu"}, "The 'activation' parameter of recommend"),
        ({"optimizers": "adam"}, "The 'optimizers' parameter of recommend must be a list"),
        ({"n_jobs": 0}, "The 'n_jobs' parameter of recommend"),
        ({"n_trials": 0}, "The 'n_trials' parameter of recommend"),
    ],
)
def test_recommend_checks_its_own_parameters_before_any_work(monkeypatch, kwargs, message):
    from lrsearch import finder
    from lrsearch.recommend import recommend

    monkeypatch.setattr(finder, "find_lr", lambda *a, **k: pytest.fail("the work ran"))
    with pytest.raises(ConfigError) as err:
        recommend("iris", **kwargs)
    assert message in str(err.value) and "find_lr" not in str(err.value)


# ----------------------------------------------------------------------------- 6. recommend --method study --n-jobs 2


def test_recommend_study_with_two_workers_runs_on_a_temporary_journal(capsys, tmp_path, monkeypatch):
    import lrsearch.search

    seen = {}
    real = lrsearch.search.run_study

    def spy(*args, **kwargs):
        seen.update(kwargs)
        seen["result"] = real(*args, **kwargs)
        return seen["result"]

    monkeypatch.setattr(lrsearch.search, "run_study", spy)
    report = tmp_path / "study.html"
    code, out, err = run(capsys, "recommend", "--data", "iris", "--hidden", "8", "--method", "study",
                         "--n-trials", "4", "--epochs", "2", "--n-jobs", "2", "--report", str(report))  # fmt: skip
    assert code == 0, err
    assert out.startswith("recommended: ") and f"report: {report}" in out and "All trials" in report.read_text()
    assert seen["n_jobs"] == 2 and str(seen["storage"]).endswith(".journal")
    assert seen["result"].summary["n_jobs"] == 2
    assert not Path(seen["storage"]).parent.exists()  # the temporary journal is gone


def test_recommend_study_keeps_a_storage_it_is_given(capsys, tmp_path):
    journal = tmp_path / "rec.journal"
    code, out, err = run(capsys, "recommend", "--data", "iris", "--hidden", "8", "--method", "study",
                         "--n-trials", "2", "--epochs", "2", "--storage", str(journal), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["method"] == "study"
    assert journal.is_file() and journal.stat().st_size > 0


def test_recommend_study_leaves_a_same_storage_study_of_the_data_alone(capsys, tmp_path):
    """recommend's study has its own name: a `lrsearch study` of iris in the same journal is neither resumed nor
    overwritten (nor its results file), and --study-name picks the name."""
    import optuna

    from lrsearch.search.storage import resolve_storage

    journal = tmp_path / "shared.journal"
    code, _, err = run(capsys, "study", "--data", "iris", "--hidden", "8", "--n-trials", "2", "--epochs", "2",
                       "--storage", str(journal), "--json")  # fmt: skip
    assert code == 0, err
    before = (tmp_path / "iris.json").read_text()
    code, _, err = run(capsys, "recommend", "--data", "iris", "--hidden", "8", "--method", "study",
                       "--n-trials", "2", "--epochs", "2", "--storage", str(journal), "--json")  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, "recommend", "--data", "iris", "--hidden", "8", "--method", "study",
                       "--n-trials", "2", "--epochs", "2", "--storage", str(journal), "--study-name", "mine",
                       "--json")  # fmt: skip
    assert code == 0, err
    storage = resolve_storage(str(journal), "iris").open()
    done = {s.study_name: sum(t.state.name == "COMPLETE" for t in optuna.load_study(study_name=s.study_name,
                                                                                    storage=storage).trials)
            for s in optuna.get_all_study_summaries(storage)}  # fmt: skip
    assert done == {"iris": 2, "iris-recommend": 2, "mine": 2}
    assert (tmp_path / "iris.json").read_text() == before
    assert (tmp_path / "iris-recommend.json").is_file() and (tmp_path / "mine.json").is_file()


# ----------------------------------------------------------------------------- 7. recommend --optimizers "" / --n-trials


@pytest.mark.parametrize("value", ["", " , "])
def test_recommend_empty_optimizers_is_an_error(capsys, no_work, value):
    code, out, err = run(capsys, "recommend", "--data", "iris", "--optimizers", value)
    assert code == 2 and out == ""
    line = one_error(err, "recommend")
    assert "--optimizers" in line and "names no optimizer" in line


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--n-trials", "50"], "--n-trials applies to --method study only"),
        (["--n-jobs", "2"], "--n-jobs applies to --method study only"),
        (["--n-trials", "50", "--storage", "x.journal"], "--n-trials and --storage apply to --method study only"),
        (["--method", "finder", "--n-trials", "50"], "--n-trials applies"),
        (["--study-name", "x"], "--study-name applies to --method study only"),
    ],
)
def test_recommend_study_flags_with_the_finder_method_are_an_error(capsys, no_work, flags, named):
    code, out, err = run(capsys, "recommend", "--data", "iris", *flags)
    assert code == 2 and out == ""
    line = one_error(err, "recommend")
    assert named in line and "add --method study" in line


# ----------------------------------------------------------------------------- 8. --help states every default


def _subparser(name: str):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and name in a.choices)
    return sub.choices[name]


def _help_of(name: str) -> dict[str, str]:
    """Each option's help text as ``lrsearch NAME --help`` prints it, by its first option string."""
    sub = _subparser(name)
    formatter = sub._get_formatter()
    return {a.option_strings[0]: " ".join(formatter._expand_help(a).split())
            for a in sub._actions if a.option_strings and a.help}  # fmt: skip


#: options that have no default to state: required, outputs off unless named, lists to add to
NO_DEFAULT = {"-h", "-v", "--data", "--plot", "--csv", "--json", "--report", "--study-name", "--find-json", "--extras", "--overwrite"}


@pytest.mark.parametrize("command", ["find", "recommend", "report"])
def test_help_states_every_default(command):
    missing = [opt for opt, text in _help_of(command).items() if opt not in NO_DEFAULT and "default" not in text]
    assert missing == []


def test_help_defaults_are_the_api_defaults():
    from lrsearch.finder import find_lr
    from lrsearch.recommend import DEFAULT_OPTIMIZERS, recommend
    from lrsearch.report import build_report

    find = {k: p.default for k, p in inspect.signature(find_lr).parameters.items()}
    rec = {k: p.default for k, p in inspect.signature(recommend).parameters.items()}
    h = _help_of("find")
    assert h["--optimizer"].endswith(f"(default {find['optimizer']})")
    assert h["--probes"].endswith(f"(default {find['probes']})")
    assert h["--repeats"].endswith(f"(default {find['repeats']})")
    assert h["--start-lr"].endswith(f"(default {find['start_lr']:g})")
    assert h["--rule"].endswith(f"(default {find['rule']!r})")
    h = _help_of("recommend")
    assert h["--n-trials"].endswith(f"(default {rec['n_trials']})") and h["--n-jobs"].endswith(f"(default {rec['n_jobs']})")
    assert h["--epochs"].endswith(f"(default {rec['epochs']})")
    assert h["--hidden"].endswith(f"(default {','.join(map(str, rec['hidden']))})")
    assert h["--optimizers"].endswith(f"(default {','.join(DEFAULT_OPTIMIZERS)})")
    top_k = inspect.signature(build_report).parameters["top_k"].default
    assert _help_of("report")["--top-k"].endswith(f"(default {top_k})")


def test_building_the_parser_stays_light():
    code = ("import sys; from lrsearch.cli import build_parser; build_parser(); "
            "print([m for m in ('numpy', 'numba', 'optuna', 'pandas', 'matplotlib') if m in sys.modules])")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("storage", [False, True])
def test_recommend_study_interrupted_exits_130_and_says_where_its_trials_are(capsys, tmp_path, monkeypatch, caplog,
                                                                             storage):
    import lrsearch.search.objective as objective

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(objective, "train", interrupt)
    extra = ["--storage", str(tmp_path / "r.journal")] if storage else []
    code, out, err = run(capsys, "recommend", "--data", "iris", "--hidden", "8", "--method", "study",
                         "--n-trials", "4", "--epochs", "2", *extra)  # fmt: skip
    assert code == 130 and "recommended" not in out and "interrupted" in err
    said = caplog.text
    assert "interrupted after 0 complete trials" in said
    assert ("kept in" in said and "run the same command again" in said) if storage else "--storage" in said


def test_a_closed_pipe_stops_quietly(capsys, monkeypatch):
    """`lrsearch find --json | head`: the reader goes away; no 'internal error', exit 141 as a shell reports it."""
    import sys

    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    code = main(["find", "--data", "iris", "--optimizer", "adam", "--json"])
    monkeypatch.undo()
    assert code == 141
    assert "internal error" not in capsys.readouterr().err


def test_a_broken_pipe_that_is_not_stdout_is_an_error(capsys, monkeypatch):
    """A socket or a worker's pipe breaking is a failure to report, not a reader going away."""
    import lrsearch.cli.find_cmd as find_cmd

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe (a database socket)")

    monkeypatch.setattr(find_cmd, "run", broken)
    parser_func = main(["find", "--data", "iris", "--optimizer", "adam"])
    err = capsys.readouterr().err
    assert parser_func == 1 and "internal error: BrokenPipeError" in err


def test_recommend_study_offers_and_honours_overwrite(capsys, tmp_path):
    """A stored recommend study with other settings: the error names --overwrite, which recommend has."""
    journal = str(tmp_path / "rec.journal")
    base = ["recommend", "--data", "iris", "--hidden", "8", "--method", "study", "--n-trials", "2",
            "--storage", journal, "--json"]  # fmt: skip
    assert run(capsys, *base, "--epochs", "2")[0] == 0
    code, out, err = run(capsys, *base, "--epochs", "3")
    assert code == 2 and "--overwrite" in one_error(err, "recommend")
    code, out, err = run(capsys, *base, "--epochs", "3", "--overwrite")
    assert code == 0, err
    assert json.loads(out)["epochs"] == 3


# ----------------------------------------------------------------------------- outputs over inputs (session 6)


def test_an_output_over_the_data_file_is_refused_before_the_work(capsys, tmp_path, no_work):
    """``find --csv`` over its own --data file replaced the data with the curve (exit 0)."""
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40)))
    before = data.read_text()
    code, _, err = run(capsys, "find", "--data", str(data), "--csv", str(tmp_path / "x" / ".." / "d.csv"))
    assert code == 2 and "is the --data file" in one_error(err, "find")
    code, _, err = run(capsys, "recommend", "--data", str(data), "--report", str(data))
    assert code == 2 and "is the --data file" in one_error(err, "recommend")
    assert data.read_text() == before


def test_a_study_output_over_its_journal_or_another_output_is_refused(capsys, tmp_path, monkeypatch):
    """``--report studies/<name>.journal`` replaced the journal with HTML: every trial was gone."""
    monkeypatch.chdir(tmp_path)
    fast = ["--data", "iris", "--n-trials", "2", "--epochs", "2", "--optimizers", "adam", "--schedules", "constant",
            "--no-progress"]  # fmt: skip
    code, _, err = run(capsys, "study", *fast, "--study-name", "w", "--report", "studies/w.journal")
    assert code == 2 and "is the study's storage" in one_error(err, "study")
    assert not (tmp_path / "studies" / "w.journal").exists()  # refused before the study
    code, _, err = run(capsys, "study", *fast, "--results", "o/a.json", "--report", "o/a.json")
    assert code == 2 and "--report and --results name the same file" in one_error(err, "study")
    # a study named after its data: the name is known before the data is loaded (session 8; it was refused only
    # after the study, its results kept), so the report is refused before anything runs
    code, out, err = run(capsys, "study", *fast, "--report", "studies/iris.journal")
    assert code == 2 and "is the study's storage" in one_error(err, "study") and "results above are kept" not in err
    assert not (tmp_path / "studies" / "iris.journal").exists()
    assert run(capsys, "study", *fast)[0] == 0
    code, out, err = run(capsys, "study", *fast, "--report", "studies/iris.journal")  # and when it exists
    assert code == 2 and "(a study's storage)" in one_error(err, "study")
    assert (tmp_path / "studies" / "iris.journal").read_text().startswith("{")  # still a journal
    code, _, err = run(capsys, "report", "--study-name", "iris", "--out", "studies/iris.journal")
    assert code == 2 and "(a study's storage)" in one_error(err, "report")
    assert run(capsys, "study", *fast)[0] == 0  # and it resumes


def test_a_file_name_too_long_is_bad_input(capsys, tmp_path, no_work):
    code, _, err = run(capsys, "find", *FIND, "--plot", str(tmp_path / ("a" * 300 + ".png")))
    assert code == 2 and "pick" in one_error(err, "find")


def test_run_study_refuses_results_over_its_journal(tmp_path):
    from lrsearch.search import run_study

    journal = tmp_path / "s.journal"
    with pytest.raises(ConfigError, match="is the study's storage"):
        run_study("iris", None, storage=str(journal), results_path=str(journal), n_trials=1, epochs=1)
    assert not journal.exists()


def test_flags_that_would_do_nothing_are_refused_or_warned(capsys, tmp_path, monkeypatch, caplog):
    code, _, err = run(capsys, "train", "--data", "iris", "--min-delta", "0.1", "--epochs", "1")
    assert code == 2 and "add --early-stopping" in one_error(err, "train")
    code, _, err = run(capsys, "study", "--data", "iris", "--search", "lr", "--n-trials", "1")
    assert code == 2 and "always searched" in one_error(err, "study") and "batch_size" in err
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    with caplog.at_level("WARNING", logger="lrsearch"):
        code = main(["study", "--data", "iris", "--n-trials", "1", "--epochs", "1", "--optimizers", "adam",
                     "--schedules", "constant", "--heartbeat", "5", "--no-progress"])  # fmt: skip
    assert code == 0 and "--heartbeat applies to database storages" in caplog.text


def test_a_study_results_file_is_not_a_range_test(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["study", "--data", "iris", "--n-trials", "1", "--epochs", "1", "--optimizers", "adam",
                 "--schedules", "constant", "--no-progress"]) == 0  # fmt: skip
    capsys.readouterr()
    code, _, err = run(capsys, "report", "--find-json", "studies/iris.json", "--out", "r.html")
    assert code == 2 and "is a study's results" in one_error(err, "report") and "--study-name" in err
    assert not (tmp_path / "r.html").exists()


def test_repeated_column_names_and_unstratifiable_splits_are_explained(tmp_path, caplog):
    from lrsearch.data import load

    path = tmp_path / "dup.csv"
    path.write_text("a,a,b,y\n" + "".join(f"{i},{i * 2 % 5},{i % 3},{i % 2}\n" for i in range(30)))
    with caplog.at_level("WARNING", logger="lrsearch"):
        ds = load(str(path), val_size=0, test_size=0)
    assert "several columns have the same name" in caplog.text and "'a.1' (written 'a')" in caplog.text
    assert ds.X_train.shape[1] == 3
    caplog.clear()
    with caplog.at_level("WARNING", logger="lrsearch"):
        load("iris", val_size=0.001)
    assert "its 1 rows cannot hold one of each of the 3 classes" in caplog.text


def test_find_makes_a_new_output_folder_as_the_other_commands_do(capsys, tmp_path):
    code, _, _ = run(capsys, "find", *FIND, "--csv", str(tmp_path / "new" / "c.csv"))
    assert code == 0 and (tmp_path / "new" / "c.csv").read_text().startswith("optimizer,")


def test_cli_messages_name_the_flags(capsys):
    code, _, err = run(capsys, "train", "--data", "iris", "--early-stopping", "2", "--val-size", "0")
    assert code == 2 and "--val-size 0 leaves empty" in one_error(err, "train")
    code, _, err = run(capsys, "find", "--data", "iris", "--optimizer", "all", "--opt-param", "momentum=0.5",
                       "--hidden", "8", "--repeats", "1", "--probes", "0", "--num-iter", "20")  # fmt: skip
    assert code == 2 and "--opt-param applies to every optimizer" in one_error(err, "find")


def test_a_study_stopped_by_its_timeout_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "study", "--data", "iris", "--n-trials", "100000", "--epochs", "1", "--timeout", "1",
                       "--optimizers", "adam", "--schedules", "constant", "--no-progress")  # fmt: skip
    assert code == 0 and "stopped at the --timeout of 1 s" in out and ": done;" not in out


def test_a_huge_metric_prints_in_significant_digits(capsys, tmp_path):
    data = tmp_path / "big.csv"
    rng = __import__("numpy").random.default_rng(0)
    rows = "".join(f"{a:.3f},{a * 1e11:.1f}\n" for a in rng.normal(size=60))
    data.write_text("x,y\n" + rows)
    code, out, _ = run(capsys, "train", "--data", str(data), "--task", "regression", "--epochs", "1", "--lr", "1e-5")
    line = next(x for x in out.splitlines() if x.startswith("test"))
    assert code == 0 and "e+" in line and not any(len(tok) > 14 for tok in line.split())


def test_review_of_session_6_fixes(capsys, tmp_path, monkeypatch, caplog):
    """A study finished within its --timeout is not 'stopped at the timeout'; the --opt-param hint goes only with
    an optimizer's error; blank header cells are not repeated names; the spec's storage is the one checked."""
    import time

    import lrsearch.search.objective as objective
    from lrsearch.data import load

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    real_train = objective.train

    def slow_train(*args, **kwargs):  # the one trial starts well inside the timeout and ends after it
        time.sleep(1.2)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(objective, "train", slow_train)  # was a 0.01 s timeout: the trial raced the deadline
    code, out, _ = run(capsys, "study", "--data", "iris", "--n-trials", "1", "--epochs", "1", "--timeout", "1",
                       "--optimizers", "adam", "--schedules", "constant", "--no-progress", "--storage", "memory")  # fmt: skip
    monkeypatch.setattr(objective, "train", real_train)
    assert code == 0 and ": done; 1 of 1 trials" in out
    code, _, err = run(capsys, "find", "--data", "iris", "--optimizer", "all", "--opt-param", "weight_decay=0.01",
                       "--start-lr", "1", "--end-lr", "0.1")  # fmt: skip
    assert code == 2 and "--opt-param applies" not in err
    path = tmp_path / "blank.csv"
    path.write_text(",,a,y\n" + "".join(f"{i},{i % 4},{i % 3},{i % 2}\n" for i in range(30)))
    with caplog.at_level("WARNING", logger="lrsearch"):
        load(str(path), val_size=0, test_size=0)
    assert "same name" not in caplog.text
    spec = tmp_path / "s.toml"
    spec.write_text('[study]\ndata = "iris"\nstorage = "sqlite:///hb.db"\nepochs = 1\nn_trials = 1\n')
    caplog.clear()
    with caplog.at_level("WARNING", logger="lrsearch"):
        code, _, err = run(capsys, "study", "--spec", str(spec), "--heartbeat", "5", "--report", "hb.db",
                           "--no-progress")  # fmt: skip
    assert code == 2 and "is the study's storage" in one_error(err, "study") and "--heartbeat" not in caplog.text
    assert not (tmp_path / "hb.db").exists()  # refused before the study


def test_recommend_report_over_its_study_journal_is_refused(capsys, tmp_path, monkeypatch, no_work):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    code, _, err = run(capsys, "recommend", "--data", "iris", "--method", "study", "--study-name", "foo",
                       "--report", "studies/foo.journal")  # fmt: skip
    assert code == 2 and "is the study's storage" in one_error(err, "recommend")


def test_report_refuses_to_write_over_the_studys_results_json(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    code, _, err = run(capsys, "report", "--study-name", "iris", "--out", "studies/iris.json")
    assert code == 2 and "is the study's results JSON" in one_error(err, "report")


def test_report_checks_a_database_studys_results_json_where_it_is(capsys, tmp_path, monkeypatch):
    """For sqlite:/// the results JSON is studies/<name>.json (where run_study writes it), not beside the file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    code, _, err = run(capsys, "report", "--study-name", "sq", "--storage", "sqlite:///db/sq.db", "--out",
                       "studies/sq.json")  # fmt: skip
    assert code == 2 and "is the study's results JSON" in one_error(err, "report")


def test_arrays_used_as_given_get_no_standardised_units_note():
    from lrsearch.data import load
    from lrsearch.report.html import _units_note

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    raw = load((X, 3 * X[:, 0] + 100), task="regression", scale=False).summary()
    scaled = load((X, 3 * X[:, 0] + 100), task="regression").summary()
    assert raw["target_standardised"] is False and scaled["target_standardised"] is True
    rec = SimpleNamespace(expected={"val_loss": 1.0})
    assert _units_note(None, rec, raw, None, []) == ""
    assert "standardised" in _units_note(None, rec, scaled, None, [])


def test_a_database_studys_results_json_is_protected_before_the_study(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSEARCH_STORAGE", raising=False)
    code, _, err = run(capsys, "study", "--data", "iris", "--study-name", "q", "--storage", "sqlite:///q.db",
                       "--report", "studies/q.json", "--n-trials", "1", "--epochs", "1", "--no-progress")  # fmt: skip
    assert code == 2 and "is the study's results JSON" in one_error(err, "study")
    assert not (tmp_path / "q.db").exists()  # refused before the study


def test_a_real_closed_pipe_stops_quietly_with_141():
    """A reader that went away for real (`lrsearch find --json | head -c0`): Python drops the buffer after the
    failed write, so a second flush succeeds; the command still sees its stdout is the broken pipe."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes a byte
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    try:
        proc = subprocess.run([sys.executable, "-m", "lrsearch", "find", "--data", "iris", "--optimizer", "adam",
                               "--json"], stdout=write_end, stderr=subprocess.PIPE, text=True, env=env,
                              timeout=120)  # fmt: skip
    finally:
        os.close(write_end)
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 141


def test_verbose_after_the_subcommand_and_unknown_flags_point_at_its_help(capsys):
    """`lrsearch find ... -v` works as `lrsearch -v find ...`; an unknown flag names the subcommand's help."""
    from lrsearch.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["find", "--data", "iris"]).verbose == 0
    assert parser.parse_args(["-v", "find", "--data", "iris"]).verbose == 1
    assert parser.parse_args(["find", "--data", "iris", "-vv"]).verbose == 2
    assert parser.parse_args(["-vv", "find", "--data", "iris", "-v"]).verbose == 3  # the counts add up
    assert not hasattr(parser.parse_args(["find", "--data", "iris", "-v"]), "verbose_after")
    for command in ("train", "find", "study", "recommend", "report"):
        assert "-v" in parser._subcommand(command)._option_string_actions, command
    assert main(["find", "--data", "iris", "--bogus", "1"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --bogus 1" in err and "'lrsearch find --help'" in err
    assert main(["--bogus", "find", "--data", "iris"]) == 2  # before the subcommand: the top level's help
    err = capsys.readouterr().err
    assert "unrecognized arguments: --bogus" in err and "'lrsearch --help'" in err
