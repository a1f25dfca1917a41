"""Review, session 7: a report of range tests from several files labels each test with its data set.

``lrsearch report --find-json a.json --find-json b.json``, where a.json ran on one data set and b.json
(``--optimizer all``) on another, listed "range test for adam" twice with different rates; every place
that names a range test (the evidence, the tables, the figures and their titles, the warnings) now says
its data set, and the file too when two files share a data set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from lrsearch.cli import main
from lrsearch.report import html as H
from lrsearch.report import tables as T

try:
    from .test_report_fakes import journal_storage, make_optuna_study
    from .test_report_html import section_html, visible_text
    from .test_report_second_review import _tables
except ImportError:
    from test_report_fakes import journal_storage, make_optuna_study
    from test_report_html import section_html, visible_text
    from test_report_second_review import _tables

pytestmark = pytest.mark.usefixtures("close_figures")


def _result(optimizer: str, lr: float, data: str, warnings: tuple[str, ...] = ()) -> dict:
    """A range test as ``lrsearch find --json`` saves it (curve, rules, the data set it ran on)."""
    lrs = np.geomspace(1e-5, 1.0, 12)
    losses = np.r_[np.full(7, 1.0), [0.8, 0.5, 0.3, 0.9, 3.0]]
    return {"optimizer": optimizer, "lr": lr, "rule": "edge", "lr_range": [lr / 4, lr],
            "suggestions": {"edge": {"rule": "edge", "lr": lr, "index": 9, "loss": 0.3},
                            "valley": {"rule": "valley", "lr": lr / 3, "index": 8, "loss": 0.5}},
            "warnings": list(warnings), "stop_reason": "diverged", "mode": "exp", "smoothing": 0.9,
            "task": "classification", "lrs": lrs.tolist(), "losses": losses.tolist(), "smoothed": losses.tolist(),
            "data": {"name": data, "task": "classification", "features": 2}}  # fmt: skip


def _write(path: Path, payload: object) -> str:
    path.write_text(json.dumps(payload))
    return str(path)


def _report(tmp_path: Path, *files: str) -> str:
    out = tmp_path / "r.html"
    args = ["report", *[a for f in files for a in ("--find-json", f)], "--out", str(out)]
    assert main(args) == 0
    return out.read_text()


def _evidence(html: str) -> list[str]:
    return re.findall(r"<li>(range test for [^<]*)</li>", html)


def _captions(html: str) -> list[str]:
    return re.findall(r"<figcaption>([^<]*)</figcaption>", html)


@pytest.fixture
def two_data_sets(tmp_path: Path) -> tuple[str, str]:
    a = _write(tmp_path / "a.json", _result("adam", 0.5, "moons"))  # lrsearch find --data moons.csv --json
    b = _write(tmp_path / "b.json", {"sgd": _result("sgd", 0.9, "other"),  # ... --optimizer all --json
                                     "adam": _result("adam", 0.04, "other", ("stopped early",))})  # fmt: skip
    return a, b


def test_range_tests_of_two_data_sets_name_their_data_set_everywhere(tmp_path, two_data_sets):
    html = _report(tmp_path, *two_data_sets)
    # the recommendation's evidence: two adam rates, each with its data set
    assert _evidence(html) == ["range test for adam (moons): suggested lr 0.5 (rule edge)",
                               "range test for sgd (other): suggested lr 0.9 (rule edge)",
                               "range test for adam (other): suggested lr 0.04 (rule edge)"]  # fmt: skip
    part = section_html(html, "range-tests")
    summary, how, rules = _tables(part)
    for table in (summary, how):  # a row per test, labelled
        assert table.columns[:3].tolist() == ["optimizer", "data", "source"]
        assert table[["optimizer", "data", "source"]].values.tolist() == [
            ["adam", "moons", "a.json"],
            ["sgd", "other", "b.json"],
            ["adam", "other", "b.json"],
        ]
    assert rules.loc[rules["optimizer"] == "adam", "data"].tolist() == ["moons", "moons", "other", "other"]
    assert _captions(part) == [f"Range test for {t}: loss against learning rate."
                               for t in ("adam (moons)", "sgd (other)", "adam (other)")]  # fmt: skip
    assert "adam (other): stopped early" in visible_text(part)  # a test's warning says which test
    assert "3 range tests (on moons, other)" in visible_text(html[: html.index("</header>")])


def test_range_tests_of_two_data_sets_get_no_one_data_set_section(tmp_path, two_data_sets):
    """Session 8: the first file's data set filled the page's "Data set" section, and every range test of the
    second file was flagged as having run on "another data set than this report's"."""
    html = _report(tmp_path, *two_data_sets)
    assert "not on this report's" not in visible_text(html)
    assert 'id="data"' not in html
    one = _report(tmp_path, two_data_sets[0])  # one data set: its section, as before
    assert "moons" in visible_text(section_html(one, "data"))


def test_two_files_of_one_data_set_are_told_apart_by_their_file(tmp_path, two_data_sets):
    again = _write(tmp_path / "c.json", _result("adam", 0.6, "moons"))
    html = _report(tmp_path, *two_data_sets, again)
    assert [e.split(":")[0] for e in _evidence(html)] == [
        "range test for adam (moons, a.json)", "range test for sgd (other)", "range test for adam (other)",
        "range test for adam (moons, c.json)"]  # fmt: skip
    assert "Range test for adam (moons, c.json): loss against learning rate." in _captions(html)
    # one data set, two files: the file alone tells them apart (and no data column says nothing new)
    alone = _report(tmp_path, two_data_sets[0], again)
    assert [e.split(":")[0] for e in _evidence(alone)] == [
        "range test for adam (a.json)",
        "range test for adam (c.json)",
    ]
    assert "data" not in _tables(section_html(alone, "range-tests"))[0].columns


def test_one_file_of_one_data_set_adds_no_label(tmp_path):
    one = _write(tmp_path / "all.json", {"sgd": _result("sgd", 0.9, "moons"), "adam": _result("adam", 0.04, "moons")})
    html = _report(tmp_path, one)
    assert [e.split(":")[0] for e in _evidence(html)] == ["range test for sgd", "range test for adam"]
    summary = _tables(section_html(html, "range-tests"))[0]
    assert "data" not in summary.columns and "source" not in summary.columns


def test_the_plot_title_names_the_data_set(tmp_path, two_data_sets):
    from matplotlib.figure import Figure

    from lrsearch.cli.report_cmd import load_range_tests

    rt = load_range_tests(two_data_sets[1])[1]
    ax = H._draw_range_test(rt, Figure().add_subplot(), label="other")
    assert ax.get_title().startswith("adam (other): suggested 0.04")
    assert H._draw_range_test(rt, Figure().add_subplot()).get_title().startswith("adam: suggested 0.04")


def test_a_studys_own_range_tests_are_labelled_with_the_studys_data_set(tmp_path):
    journal = tmp_path / "aim.journal"
    st = make_optuna_study(journal_storage(journal), name="aim", n_trials=6)
    summary = {"optimizer": "adam", "lr": 0.0123, "lr_range": [0.003, 0.05], "spread_decades": 0.25}
    (tmp_path / "aim.json").write_text(json.dumps({
        "study_name": "aim", "best_number": st.best_trial.number, "dataset": {"name": "wine", "task": "classification"},
        "summary": {"aim": "finder"}, "range_tests": [summary]}))  # fmt: skip
    find = _write(tmp_path / "f.json", _result("adam", 0.005, "iris"))
    out = tmp_path / "m.html"
    assert main(["report", "--study-name", "aim", "--storage", str(journal), "--find-json", find,
                 "--out", str(out)]) == 0  # fmt: skip
    table = _tables(section_html(out.read_text(), "range-tests"))[0]
    assert table[["optimizer", "data", "source"]].values.tolist() == [
        ["adam", "wine", "this study's --aim finder"],
        ["adam", "iris", "f.json"],
    ]


def test_labels_of_a_test_that_recorded_no_data_set():
    from types import SimpleNamespace as NS

    a = NS(optimizer="adam", data={"name": "moons"}, source="a.json")
    b = NS(optimizer="adam", data={"name": "other"}, source="b.json")
    old = NS(optimizer="adam", source="old.json")  # saved before find --json recorded its data set
    assert T.range_test_labels([a, b, old]) == ["moons", "other", "data set not recorded, old.json"]
    assert T.range_test_labels([a, old]) == ["a.json", "old.json"]  # one known data set: the files tell
