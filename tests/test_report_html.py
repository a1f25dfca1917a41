"""The HTML report: self-contained, escaped, and complete for every mix of inputs."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import numpy as np
import pytest

from lrsearch.exceptions import ConfigError
from lrsearch.report import build_report

try:
    from .test_report_fakes import fake_range_test, fake_study, fake_train_result, fake_trials, make_optuna_study
except ImportError:
    from test_report_fakes import fake_range_test, fake_study, fake_train_result, fake_trials, make_optuna_study

EVIL = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Every start tag with its attributes, and the page's visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(self.text)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]


def assert_self_contained(html: str) -> _Page:
    page = _Page(html)
    assert not page.all("script"), "the page must not need (or carry) JavaScript"
    assert not page.all("link") and not page.all("iframe") and not page.all("object")
    for tag, attrs in page.tags:
        for key in ("src", "href", "srcset", "action", "data"):
            value = attrs.get(key, "").strip().lower()
            assert not value.startswith(("http://", "https://", "//")), f"<{tag} {key}={value[:60]}> fetches a URL"
            assert not value.startswith("javascript:")
        assert not any(k.startswith("on") for k in attrs), f"<{tag}> has an event handler"
    for img in page.all("img"):
        assert img["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(img["src"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert "url(" not in html  # no CSS fetching either
    return page


def section_html(html: str, anchor: str) -> str:
    """The page's section ``id=anchor`` up to the next section."""
    start = html.index(f'id="{anchor}"')
    end = html.find("<section", start)
    return html[start:end if end > 0 else None]


def visible_text(html: str) -> str:
    """The page's visible text, whitespace collapsed (checking it is self-contained on the way)."""
    return " ".join(assert_self_contained(html).visible.split())


def test_full_report_is_self_contained_and_shows_the_recommendation(tmp_path):
    study = fake_study(range_tests=(fake_range_test("adam", 3e-3),), best_result=fake_train_result())
    path = build_report(tmp_path / "r.html", study=study, notes="reviewed by <b>me</b>")
    html = path.read_text()
    page = assert_self_contained(html)
    text = page.visible
    # recommendation header: optimizer, rate, schedule and its parameters, expected score
    rec = html[html.index('id="recommendation"'):html.index('id="data"')]
    assert "adam" in rec and "0.003" in rec and "cosine" in rec and "warmup = 2" in rec and "0.93" in rec
    for heading in ("Recommendation", "Data set", "Study: demo", "By optimizer", "By schedule", "Best configuration",
                    "LR range tests", "All trials", "Notes"):  # fmt: skip
        assert heading in text
    # history, lr-vs-value, per optimizer, curves, best loss, best lr, one range test
    assert len(page.all("img")) == 7
    assert "reviewed by <b>me</b>" in text and "<b>me</b>" not in html  # notes escaped
    assert "loss exploded at step 3" in text  # divergence reasons in the trials table


def test_malicious_names_are_escaped(tmp_path):
    trials = fake_trials().rename(columns={"param_gamma": f"param_{EVIL}"})
    study = fake_study(name=EVIL, trials=trials, best_params={"optimizer": EVIL, "lr": 0.003, EVIL: 1})
    html = build_report(tmp_path / "evil.html", study=study, title=EVIL, notes=EVIL,
                        dataset_summary={"name": EVIL}, range_tests=[fake_range_test(EVIL)]).read_text()  # fmt: skip
    page = assert_self_contained(html)
    assert EVIL not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert EVIL in page.visible  # shown as text, not run


def test_report_from_an_empty_study(tmp_path):
    empty = fake_study(trials=fake_trials().iloc[0:0], best_params={}, best_value=None, summary={})
    html = build_report(tmp_path / "e.html", study=empty).read_text()
    page = assert_self_contained(html)
    assert "has no trials yet" in page.visible and "No recommendation" in page.visible


def test_report_when_every_trial_failed_or_was_pruned(tmp_path):
    bad = fake_trials().assign(state=["PRUNED", "FAIL"] * 3, value=np.nan)
    study = fake_study(trials=bad, best_params={}, best_value=None, best_val_metrics={}, best_test_metrics={}, summary={})
    html = build_report(tmp_path / "f.html", study=study).read_text()
    text = assert_self_contained(html).visible
    # trials 2 and 4 diverged: they are pruned trials, counted once (not a fourth kind beside pruned and failed)
    assert "No trial of the study 'demo' completed: 6 trials, 3 pruned (2 of them diverged), 3 failed." in text
    assert "lower the learning-rate bounds" in text
    assert "non-finite loss at step 7" in text  # the reasons are still listed
    assert "Learning rate of every trial that diverged" in text and html.count("data:image/png") >= 1


def test_range_tests_only(tmp_path):
    rts = [fake_range_test("adam", 3e-3), fake_range_test("sgd", 0.05, ("the curve never diverged: raise end_lr",))]
    html = build_report(tmp_path / "rt.html", range_tests=rts).read_text()
    page = assert_self_contained(html)
    assert len(page.all("img")) == 2
    assert "cannot rank optimizers" in page.visible and "raise end_lr" in page.visible
    assert 'id="study"' not in html and 'id="trials"' not in html
    one = build_report(tmp_path / "one.html", range_tests=rts[:1]).read_text()
    assert "Use" in one and "0.003" in one


def test_train_result_only_and_nothing(tmp_path):
    page = assert_self_contained(build_report(tmp_path / "t.html", train_result=fake_train_result()).read_text())
    assert len(page.all("img")) == 2
    page = assert_self_contained(build_report(tmp_path / "n.html").read_text())
    assert "Nothing to report" in page.visible


def test_real_optuna_study_with_importances(tmp_path):
    st = make_optuna_study(None, name="real", n_trials=14)
    page = assert_self_contained(build_report(tmp_path / "o.html", study=st).read_text())
    assert "Hyperparameter importance" in page.visible and "PedAnova" in page.visible
    assert f"{st.best_params['lr']:.3g}" in page.visible


def test_extras_write_csv_and_pngs_next_to_the_page(tmp_path):
    out = build_report(tmp_path / "sub" / "x.html", study=fake_study(), extras=True)
    names = sorted(p.name for p in out.parent.iterdir())
    assert "x_trials.csv" in names and "x_history.png" in names and "x_lr_vs_value.png" in names
    import pandas as pd

    assert pd.read_csv(out.parent / "x_trials.csv")["number"].tolist() == [1, 5, 3, 0, 2, 4]
    plain = build_report(tmp_path / "plain" / "y.html", study=fake_study())
    assert [p.name for p in plain.parent.iterdir()] == ["y.html"]


def test_out_path_that_is_a_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        build_report(tmp_path, study=fake_study())


def test_a_failing_figure_does_not_cost_the_report(tmp_path, monkeypatch, caplog):
    from lrsearch.report import plots

    def broken(*a, **k):
        raise RuntimeError("no ink")

    monkeypatch.setattr(plots, "plot_history", broken)
    html = build_report(tmp_path / "b.html", study=fake_study()).read_text()
    assert "could not be drawn: RuntimeError: no ink" in html
    assert "figure history could not be drawn" in caplog.text


def test_storage_passwords_never_reach_the_page(tmp_path):
    study = fake_study(storage="postgresql://ann:s3cret@db.example:5432/studies")
    html = build_report(tmp_path / "pw.html", study=study).read_text()
    assert "s3cret" not in html and "postgresql://ann:***@db.example:5432/studies" in html


def test_bad_arguments_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="'top_k' parameter of build_report"):
        build_report(tmp_path / "k.html", study=fake_study(), top_k=0)
