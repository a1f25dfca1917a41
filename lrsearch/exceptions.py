"""Exceptions raised by lrsearch.

Every error lrsearch raises on purpose is an :class:`LRSearchError`, so callers
(and the CLI, which maps them to exit code 2) can catch them all at once. Input
errors also subclass :class:`ValueError`, so ordinary ``except ValueError``
handlers keep working.

Divergence of a training run is *not* an error: it is reported as a normal
result with a reason.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "LRSearchError"]


class LRSearchError(Exception):
    """Base class of every error lrsearch raises on purpose."""


class DataError(LRSearchError, ValueError):
    """The input data cannot be used: missing file, bad values, too few rows...

    The message names the offending column, row or value and says how to fix it.
    """


class ConfigError(LRSearchError, ValueError):
    """A parameter has an invalid value (the message echoes it and the valid range)."""
