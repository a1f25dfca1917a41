"""The ``lrsearch`` command: a thin map of subcommands onto the public API.

Exit codes: 0 success, 2 bad input (a one-line message, no traceback), 1 an
internal error, 130 interrupted (143 by SIGTERM), 141 the reader of stdout went away
(``lrsearch find --json | head -1``, as a shell reports SIGPIPE). ``main(argv)`` returns the code, so tests run
the CLI in-process.

>>> main(["--version"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["build_parser", "console_main", "main"]

#: subcommand modules, each with ``register(subparsers)`` (cheap to import)
_COMMANDS = (
    "lrsearch.cli.train_cmd",
    "lrsearch.cli.find_cmd",
    "lrsearch.cli.study_cmd",
    "lrsearch.cli.recommend_cmd",
    "lrsearch.cli.report_cmd",
)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (the problem and where the help is) instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]  # noqa: D102
        argv = list(sys.argv[1:] if args is None else args)
        parsed, extra = self.parse_known_args(argv, namespace)
        if hasattr(parsed, "verbose_after"):  # `lrsearch -v find ... -v`: the two counts add up
            parsed.verbose = getattr(parsed, "verbose", 0) + parsed.verbose_after
            del parsed.verbose_after
        if extra:  # argparse reports these at the top; the help that lists the right flags is the subcommand's
            command = getattr(parsed, "command", None)
            where = self._subcommand(command) if command and command in argv else None
            if where is not None and extra[0] in argv[:argv.index(command)]:
                where = None  # given before the subcommand: the top level's flag, its help
            (where or self).error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed

    def _subcommand(self, name: str) -> argparse.ArgumentParser | None:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(name)
        return None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    from lrsearch import __version__

    parser = _Parser(
        prog="lrsearch",
        description="Which optimizer, learning rate and decay schedule should this network use?",
    )
    parser.add_argument("--version", action="version", version=f"lrsearch {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a subcommand not built yet
            if exc.name != name:
                raise
            continue
        module.register(sub)
    for command in sub.choices.values():  # `lrsearch find ... -v` as well as `lrsearch -v find ...`
        command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, dest="verbose_after",
                             help="more log output (-vv for debug)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (also for ``--help``, ``--version`` and a bad flag)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and its own errors: a code, as for the rest
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="lrsearch: %(levelname)s: %(message)s",
    )
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # -vv is for lrsearch, not 2,000 lines of font search
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from lrsearch.exceptions import LRSearchError
    from lrsearch.search._signals import SIGTERM_NOTED, sigterm_interrupts

    try:
        with sigterm_interrupts():  # SIGTERM stops a command as Ctrl-C does (a study keeps and writes its results)
            return int(args.func(args) or 0)
    except LRSearchError as exc:
        print(f"lrsearch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lrsearch {args.command}: interrupted", file=sys.stderr)
        return 143 if SIGTERM_NOTED.is_set() else 130  # 128 + the signal, as a shell reports it
    except BrokenPipeError as exc:  # the reader went away (`lrsearch find --json | head`): stop quietly, as cat does
        if _stdout_closed():
            _silence_stdout()
            return 141  # 128 + SIGPIPE, what a shell reports for a program a closed pipe stopped
        return _internal_error(args, exc)  # a pipe other than stdout broke (a socket, say): a real error
    except Exception as exc:  # an internal error: say so plainly, keep the detail in -v
        return _internal_error(args, exc)


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    logging.getLogger("lrsearch").debug("internal error", exc_info=exc)
    hint = " (the traceback is above)" if args.verbose >= 2 else f" (run 'lrsearch -vv {args.command} ...' for details)"
    print(f"lrsearch {args.command}: internal error: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
    return 1


def _stdout_closed() -> bool:
    """Whether stdout is the pipe that broke.

    Flushing again does not tell: after the failed write Python has dropped the
    buffer, so the flush succeeds. A pipe whose reader has gone polls as an
    error (POLLERR) on its write end; that is asked first, then a flush (for a
    stdout object without a file descriptor).
    """
    try:
        import select

        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        if any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0)):
            return True
    except (AttributeError, OSError, ValueError):  # no descriptor (captured), or no poll on this platform
        pass
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (captured in tests)
        pass


def console_main() -> int:
    """The ``lrsearch`` script and ``python -m lrsearch``: :func:`main`, then an exit a late Ctrl-C cannot disturb.

    Once the command has returned (its results printed and saved), a Ctrl-C while
    the interpreter shuts down (joblib's idle workers are joined then) could only
    print a traceback or replace the exit code.
    """
    import signal
    import threading

    code = main()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code
