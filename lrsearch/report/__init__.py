"""Reports: pandas tables, matplotlib figures and one self-contained HTML page.

Everything is imported lazily, so ``import lrsearch.report`` loads neither pandas
nor matplotlib until a table or a figure is asked for.

>>> from lrsearch.report import build_report, trials_table, plot_history  # doctest: +SKIP
>>> build_report("reports/iris.html", study=result)  # doctest: +SKIP
"""

from __future__ import annotations

from lrsearch._lazy import lazy_getattr

_TABLES = ("ReportRecommendation", "StudyView", "best_metrics_table", "best_params_table", "candidates_table",
           "dataset_table",
           "format_value", "group_summary", "optimizer_summary", "param_importances",
           "range_rules_table", "range_test_table", "rank_trials", "rate_bound_note", "recommendation_summary",
           "schedule_summary", "search_space_table", "study_summary_table", "study_view", "trial_counts_text",
           "trials_from_optuna", "trials_table")  # fmt: skip
_PLOTS = ("optimizer_colors", "plot_curves", "plot_history", "plot_importances", "plot_lr_schedule",
          "plot_lr_vs_value", "plot_optimizer_values", "plot_range_test", "plot_training")  # fmt: skip

_LAZY = {name: "lrsearch.report.tables" for name in _TABLES}
_LAZY.update({name: "lrsearch.report.plots" for name in _PLOTS})
_LAZY["build_report"] = "lrsearch.report.html"

__all__ = sorted(_LAZY)


__getattr__ = lazy_getattr("lrsearch.report", _LAZY)


def __dir__() -> list[str]:
    return __all__
