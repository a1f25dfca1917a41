"""Module-level lazy attributes (PEP 562), shared by the packages that defer heavy imports."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A ``__getattr__`` for ``package`` that imports ``table[name]`` on first access and caches it.

    >>> getattr_ = lazy_getattr("lrsearch", {"ConfigError": "lrsearch.exceptions"})
    >>> getattr_("ConfigError").__name__
    'ConfigError'
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
