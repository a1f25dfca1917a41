"""`lrsearch report` in-process, on real Optuna studies stored in journal files."""

from __future__ import annotations

import json

import pytest

from lrsearch.cli import main

try:
    from .test_report_fakes import journal_storage, make_optuna_study
except ImportError:
    from test_report_fakes import journal_storage, make_optuna_study


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    """A journal file holding two studies: 'tiny' and one named like an attack."""
    path = tmp_path_factory.mktemp("studies") / "tiny.log"
    make_optuna_study(journal_storage(path), name="tiny", n_trials=14)
    make_optuna_study(journal_storage(path), name="<script>alert(1)</script>", n_trials=6, seed=1)
    return path


def test_report_from_a_journal_study(journal, tmp_path, capsys):
    out = tmp_path / "tiny.html"
    code = main(["report", "--study-name", "tiny", "--storage", str(journal), "--out", str(out)])
    assert code == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    html = out.read_text()
    assert "Study: tiny" in html and "val_loss (minimize)" in html and "data:image/png;base64," in html
    import optuna

    best = optuna.load_study(study_name="tiny", storage=journal_storage(journal)).best_params
    assert f"{best['lr']:.3g}" in html and f"<b>{best['optimizer']}</b>" in html
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.html"]


def test_report_escapes_the_study_name_and_writes_extras(journal, tmp_path):
    out = tmp_path / "evil.html"
    code = main(["report", "--study-name", "<script>alert(1)</script>", "--storage", str(journal),
                 "--out", str(out), "--extras", "--title", "<b>t</b>", "--notes", "n <i>"])  # fmt: skip
    assert code == 0
    html = out.read_text()
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;t&lt;/b&gt;" in html
    assert (tmp_path / "evil_trials.csv").is_file() and (tmp_path / "evil_history.png").is_file()


def test_report_with_saved_range_tests(journal, tmp_path):
    find = tmp_path / "find.json"
    find.write_text(json.dumps({"results": [{
        "optimizer": "adam", "lrs": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1], "losses": [1.0, 0.9, 0.5, 0.7, None],
        "smoothed": [1.0, 0.95, 0.7, 0.7, None], "stop_reason": "diverged", "lr": 1e-3, "lr_range": [1e-4, 1e-2],
        "spread_decades": 0.1, "warnings": ["noisy curve"],
        "suggestions": {"valley": {"rule": "valley", "lr": 1e-3, "index": 2, "loss": 0.5}},
    }]}))  # fmt: skip
    out = tmp_path / "with_find.html"
    assert main(["report", "--study-name", "tiny", "--storage", str(journal), "--find-json", str(find), "--out", str(out)]) == 0
    html = out.read_text()
    assert "LR range tests" in html and "noisy curve" in html and "valley" in html
    only = tmp_path / "only_find.html"
    assert main(["report", "--find-json", str(find), "--out", str(only)]) == 0
    assert "LR range test" in only.read_text()
    by_name = tmp_path / "by_name.json"  # {optimizer: result}, as for --optimizer all
    by_name.write_text(json.dumps({"adam": json.loads(find.read_text())["results"][0]}))
    assert main(["report", "--find-json", str(by_name), "--out", str(only)]) == 0
    assert "noisy curve" in only.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "pass --study-name NAME"),
        (["--study-name", "nope", "--storage", "{journal}"], "No study named 'nope'"),
        (["--study-name", "tiny", "--storage", "{missing}"], "no journal file"),
        (["--study-name", "tiny", "--storage", "sqlite:///{missing}"], "does not exist"),
        (["--study-name", "absent-everywhere"], "(the default storage)"),
        (["--study-name", "tiny", "--storage", "memory"], "lives only inside the process"),
        (["--find-json", "{missing}"], "cannot read the file"),
        (["--find-json", "{journal}"], "is not JSON"),
        (["--find-json", "{notarange}"], "is not a range-test result"),
        (["--study-name", "tiny", "--storage", "{journal}", "--top-k", "0"], "--top-k must be a positive"),
    ],
)
def test_bad_input_exits_2_with_a_fix(journal, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)  # the default storage lookup under studies/ finds nothing here
    notarange = tmp_path / "x.json"
    notarange.write_text('{"a": 1}')
    fill = {"journal": str(journal), "missing": str(tmp_path / "missing.log"), "notarange": str(notarange)}
    code = main(["report", *[a.format(**fill) for a in argv]])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("lrsearch report: error: ") and message in err
    assert not (tmp_path / "missing.log").exists()  # reading never creates a storage


def test_default_storage_is_the_studies_journal(journal, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "tiny.journal").write_bytes(journal.read_bytes())
    assert main(["report", "--study-name", "tiny"]) == 0
    assert (tmp_path / "reports" / "tiny.html").is_file()


def _saved_results(journal, best_number, **extra):
    import optuna

    st = optuna.load_study(study_name="tiny", storage=journal_storage(journal))
    return {"study_name": "tiny", "best_number": best_number, "best_test_metrics": {"accuracy": 0.987},
            "best_val_metrics": {"accuracy": 0.95}, "best_config": {"optimizer": st.best_params["optimizer"],
            "lr": st.best_params["lr"], "schedule": "constant", "schedule_params": {}, "epochs": 7},
            "dataset": {"name": "saved-data"}, "summary": {"sampler": "tpe", "n_trials": 999}, **extra}  # fmt: skip


def test_the_saved_results_json_completes_the_report(journal, tmp_path):
    import optuna

    copy = tmp_path / "tiny.log"
    copy.write_bytes(journal.read_bytes())
    best = optuna.load_study(study_name="tiny", storage=journal_storage(copy)).best_trial.number
    (tmp_path / "tiny.json").write_text(json.dumps(_saved_results(copy, best)))
    out = tmp_path / "r.html"
    assert main(["report", "--study-name", "tiny", "--storage", str(copy), "--out", str(out)]) == 0
    html = out.read_text()
    assert "accuracy (test): 0.987" in html and "saved-data" in html and "epochs = 7" in html
    assert ">999<" not in html and ">14<" in html  # trial counts come from the storage, not the JSON
    # a JSON about another best trial (the study went on) lends its data set but not its metrics
    (tmp_path / "tiny.json").write_text(json.dumps(_saved_results(copy, best + 100)))
    assert main(["report", "--study-name", "tiny", "--storage", str(copy), "--out", str(out)]) == 0
    html = out.read_text()
    assert "0.987" not in html and "saved-data" in html


def test_end_to_end_with_a_real_study(tmp_path, monkeypatch):
    """run_study -> build_report, and lrsearch report from the stored study, agree."""
    from lrsearch.report import build_report
    from lrsearch.search import run_study

    monkeypatch.chdir(tmp_path)
    res = run_study("iris", study_name="e2e", n_jobs=1, n_trials=5, epochs=3)
    page = build_report(tmp_path / "api.html", study=res).read_text()
    assert main(["report", "--study-name", "e2e", "--out", "cli.html"]) == 0
    cli = (tmp_path / "cli.html").read_text()
    acc = f"accuracy (test): {res.best_test_metrics['accuracy']:.4g}"
    for html in (page, cli):
        assert f"<b>{res.best_params['optimizer']}</b>" in html and acc in html
    caption = "Training and validation loss per epoch."  # the retrained run is in the API result, not the storage
    assert caption in page and caption not in cli


def test_range_tests_saved_by_the_finder_round_trip(tmp_path):
    """A real RangeTestResult -> to_dict() JSON (NaN as null) -> --find-json -> its plot in the page."""
    from lrsearch.cli._common import dump_json
    from lrsearch.finder import find_lr

    rt = find_lr("iris", optimizer="adam", repeats=2, num_iter=60)
    find = tmp_path / "find.json"
    find.write_text(dump_json(rt.to_dict()))
    out = tmp_path / "find.html"
    assert main(["report", "--find-json", str(find), "--out", str(out)]) == 0
    html = out.read_text()
    assert "could not be drawn" not in html and html.count("data:image/png;base64,") == 1
    assert f"{rt.lr:.3g}" in html and rt.rule in html


def test_a_find_report_names_the_data_set_and_how_the_test_ran(tmp_path, capsys):
    find = tmp_path / "f.json"
    assert main(["find", "--data", "iris", "--optimizer", "adam", "--json"]) == 0
    find.write_text(capsys.readouterr().out)
    assert json.loads(find.read_text())["data"]["name"] == "iris"
    out = tmp_path / "f.html"
    assert main(["report", "--find-json", str(find), "--out", str(out)]) == 0
    html = out.read_text()
    assert "How the tests ran" in html and "num_iter" in html
    assert "Data set" in html and "train 90, val 30, test 30" in html  # the data set the test ran on


def test_a_report_on_another_machine_shows_the_aimed_studys_range_tests(tmp_path, monkeypatch, capsys):
    """Without the results file (another machine wrote it) the report lost an aimed study's range tests, which
    the study itself stores."""
    from lrsearch.search import run_study

    monkeypatch.chdir(tmp_path)
    journal = str(tmp_path / "a.journal")
    run_study("iris", None, storage=journal, n_trials=2, epochs=1, aim="finder", retrain=False, results_path=False,
              hidden=[8], space={"optimizer": ["adam", "sgd"], "schedule": ["constant"]})  # fmt: skip
    out = tmp_path / "r.html"
    assert main(["report", "--study-name", "iris", "--storage", journal, "--out", str(out)]) == 0
    html = out.read_text()
    assert "2 range tests" in html and "LR range tests" in html
    assert "the range test for sgd suggested" in html or "the range test for adam suggested" in html
