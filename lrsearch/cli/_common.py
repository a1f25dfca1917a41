"""Argument helpers shared by the subcommands (no heavy imports here)."""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from lrsearch._json import jsonable
from lrsearch.exceptions import ConfigError

__all__ = ["add_data_args", "add_model_args", "check_output_path", "parse_hidden", "parse_pairs", "dump_json",
           "finder_warnings_printed_elsewhere"]


def add_data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True, help="built-in name (iris, digits, wine, breast_cancer, diabetes, linnerud) or a file: "
                   ".csv, .tsv, .parquet/.pq, or .npz with arrays X and y")
    g.add_argument("--target", default=None, help="target column of a CSV/Parquet file (default: the last column)")
    g.add_argument("--task", choices=["classification", "regression"], default=None, help="default: inferred")
    g.add_argument("--val-size", type=float, default=0.2, help="share of rows for validation (default 0.2)")
    g.add_argument("--test-size", type=float, default=0.2, help="share of rows for the test split (default 0.2)")
    g.add_argument("--seed", type=int, default=0, help="seed of the split, initialisation and shuffling")


def add_model_args(p: argparse.ArgumentParser, *, default_hidden: str = "64") -> None:
    g = p.add_argument_group("network")
    g.add_argument("--hidden", default=default_hidden, help=f"hidden widths, comma-separated; '' for none (default {default_hidden})")
    g.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid", "identity"],
                   help="hidden-layer activation (default relu)")
    g.add_argument("--batch-size", type=int, default=32, help="minibatch rows (default 32)")
    g.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="floating-point type of the training (default float32)")


def parse_hidden(text: str) -> tuple[int, ...]:
    """'64,32' -> (64, 32); '' -> ()."""
    text = text.strip()
    if not text:
        return ()
    try:
        widths = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise ConfigError(f"--hidden must be comma-separated positive integers such as 64,32; got {text!r}.") from None
    if any(w < 1 for w in widths):
        raise ConfigError(f"--hidden widths must be positive; got {text!r}.")
    return widths


def parse_pairs(items: list[str] | None, flag: str) -> dict[str, Any]:
    """['momentum=0.9', 'betas=(0.9,0.99)'] -> {'momentum': 0.9, 'betas': (0.9, 0.99)}."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} takes KEY=VALUE, such as {flag} momentum=0.9; got {item!r}.")
        try:
            value: Any = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = {"true": True, "false": False, "none": None}.get(raw.lower(), raw)
        out[key.strip()] = value
    return out


def check_output_path(path: str | None, flag: str, *, own_results: tuple[str, str] | None = None) -> None:
    """Fail before any work if ``path`` cannot become a file: it is a folder, or a file stands in for a folder;
    or if writing it would destroy a study: an existing file that is a study's storage (an Optuna journal, an
    SQLite database) or a study's results JSON (but the results of ``own_results``, (study, storage), which
    this run replaces).

    Folders that do not exist yet are fine (the writers create them).
    """
    from pathlib import Path

    if path is None:
        return
    try:
        _check_output_path(Path(path), path, flag)
        _check_not_a_study_file(Path(path), path, flag, own_results)
    except OSError as exc:  # e.g. a file name longer than the file system allows
        raise ConfigError(f"{flag} {path!r}: {exc.strerror or exc}; pick another path.") from None


def _check_not_a_study_file(out: Any, path: str, flag: str, own_results: tuple[str, str] | None) -> None:
    """ConfigError when ``out`` holds a study's storage or another study's results."""
    from lrsearch._validation import _same_storage, results_owner

    if not out.is_file():
        return
    with open(out, "rb") as handle:
        head = handle.read(4096)
    what = None
    if head.startswith(b"SQLite format 3\x00"):
        what = "an SQLite database (a study storage?)"
    elif head.lstrip().startswith(b"{") and b'"op_code"' in head.split(b"\n", 1)[0]:
        what = "an Optuna journal (a study's storage)"
    else:
        owner = results_owner(out) if head.lstrip().startswith(b"{") else None
        if owner is not None and not (own_results is not None and owner[0] == own_results[0]
                                      and _same_storage(owner[1], own_results[1])):  # fmt: skip
            what = f"the results JSON of study {owner[0]!r} in {owner[1]}"
    if what:
        raise ConfigError(f"{flag} {path!r} is {what}: writing it would destroy that; pick another file name.")


def _check_output_path(out: Any, path: str, flag: str) -> None:
    import os

    if out.exists() and not out.is_dir() and not out.is_file():
        raise ConfigError(f"{flag} {path!r} is not a regular file (a device, pipe or socket); pass a file name.")
    if out.is_dir():
        example = out / _EXAMPLE_NAMES.get(flag, "report.html")
        raise ConfigError(f"{flag} {path!r} is a folder; pass a file name such as {str(example)!r}.")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} {path!r}: '{parent}' is a file, not a folder; pick another path.")
    if not os.access(parent, os.W_OK | os.X_OK) or not _can_create_in(parent):
        raise ConfigError(f"{flag} {path!r}: the folder '{parent}' is not writable; pick another path.")
    try:
        longest = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    for part in out.parts:
        if len(os.fsencode(part)) > longest:
            raise ConfigError(f"{flag}: the name {part[:20]!r}... is longer than the file system allows "
                              f"({longest} bytes); pick a shorter one.")  # fmt: skip


#: a file name to suggest when a flag is given a folder
_EXAMPLE_NAMES = {"--results": "results.json", "--plot": "lr.png", "--csv": "curve.csv"}


def _can_create_in(folder: Any) -> bool:
    """Whether a file can really be created in ``folder`` (root passes ``os.access`` even on /proc and /sys)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def dump_json(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=2)


@contextlib.contextmanager
def finder_warnings_printed_elsewhere(active: bool) -> Iterator[None]:
    """While ``active``, the finder's logger shows errors only: the command prints its warnings itself, once."""
    log = logging.getLogger("lrsearch.finder")
    level = log.level
    if active:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)
