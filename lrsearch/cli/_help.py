"""Help text shared by the subcommands: every option's default, read from the API where the parser has None.

Flags left at None by the parser take the default of the API function's parameter of the
same name (:func:`fill_api_defaults`), and ``--help`` shows it (:func:`defaults_formatter`),
so the command line and the API cannot drift apart. Nothing heavy is imported here.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

__all__ = ["api_defaults", "defaults_formatter", "fill_api_defaults", "show_default"]


def api_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    """The defaults of ``fn``'s parameters, by name (what a flag left at None means).

    >>> api_defaults(lambda x, *, n=3, name="adam": None)
    {'n': 3, 'name': 'adam'}
    """
    import inspect

    empty = inspect.Parameter.empty
    return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not empty}


def fill_api_defaults(args: argparse.Namespace, fn: Callable[..., Any], dests: tuple[str, ...]) -> None:
    """Set every flag in ``dests`` that was not given (None) to ``fn``'s default of the same name."""
    defaults = api_defaults(fn)
    for dest in dests:
        if getattr(args, dest) is None:
            setattr(args, dest, defaults[dest])


def show_default(value: Any) -> str:
    """A default as a user would type it: ``(64,)`` -> ``64``, ``1e-07``, ``adam``."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value)) or "''"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def defaults_formatter(api: Callable[[], Callable[..., Any]] | None = None) -> type[argparse.HelpFormatter]:
    """A help formatter that ends every option's help with its default, unless the help already states one.

    A flag whose parser default is None shows the default of the parameter of the same name of
    ``api()`` (the API function, imported only when the help is shown, so ``lrsearch --help``
    stays fast). Flags (``store_true``) and options without any default show nothing.
    """

    class DefaultsHelpFormatter(argparse.HelpFormatter):
        _defaults: dict[str, Any] | None = None

        def _api_default(self, dest: str) -> Any:
            if api is None:
                return None
            if self._defaults is None:
                self._defaults = api_defaults(api())
            return self._defaults.get(dest)

        def _get_help_string(self, action: argparse.Action) -> str | None:
            text = action.help or ""
            stated = re.search(r"\(default\b|\bdefault:", text)  # "(default 0.2)", "default: inferred"
            if not action.option_strings or action.required or action.default is argparse.SUPPRESS or stated:
                return action.help
            value = action.default if action.default is not None else self._api_default(action.dest)
            if value is None or isinstance(value, bool):
                return action.help
            shown = show_default(value)
            if action.choices is not None and isinstance(value, str):
                shown = repr(shown)  # one of the choices: --rule's default is the rule named 'default'
            return f"{text} (default {shown.replace('%', '%%')})"

    return DefaultsHelpFormatter
