"""The examples in the core modules' docstrings run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "lrsearch._json",
    "lrsearch._lazy",
    "lrsearch._validation",
    "lrsearch.metrics",
    "lrsearch.nn",
    "lrsearch.nn.optimizers",
    "lrsearch.nn.params",
    "lrsearch.nn.schedules",
    "lrsearch.nn.training",
    "lrsearch.evaluation",
    "lrsearch._finder_rules",
    "lrsearch.finder",
    "lrsearch.data",
    "lrsearch.search.space",
    "lrsearch.search._signals",
    "lrsearch.search.spec",
    "lrsearch.search.samplers",
    "lrsearch.search.runner",
    "lrsearch.search.results",
    "lrsearch.report.tables",
    "lrsearch.cli.study_cmd",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
