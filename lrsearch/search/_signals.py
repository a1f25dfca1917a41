"""The Ctrl-C (SIGINT) handlers a study installs for a while: one mechanism for the three it needs.

>>> import signal
>>> with sigint_handler(signal.SIG_IGN) as previous:
...     signal.getsignal(signal.SIGINT) is signal.SIG_IGN
True
>>> signal.getsignal(signal.SIGINT) is previous
True
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["SIGTERM_NOTED", "sigint_handler", "sigterm_interrupts"]


@contextlib.contextmanager
def sigint_handler(handler: Any, *, over: Callable[[Any], bool] = lambda previous: True,
                   signum: int = signal.SIGINT) -> Iterator[Any]:  # fmt: skip
    """Install ``handler`` for SIGINT (or ``signum``) meanwhile, then put the previous one back; yield the
    previous handler.

    Yields None, installing nothing, off the main thread (only it can set a signal
    handler), when the previous handler was not set from Python, or when
    ``over(previous)`` says not to replace it.
    """
    previous = signal.getsignal(signum) if threading.current_thread() is threading.main_thread() else None
    if previous is None or not over(previous):
        yield None
        return
    signal.signal(signum, handler)
    try:
        yield previous
    finally:
        signal.signal(signum, previous)


#: set by :func:`sigterm_interrupts`' handler: the interruption was a SIGTERM (the command exits 143)
SIGTERM_NOTED = threading.Event()


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Meanwhile, a SIGTERM (``kill PID``, ``timeout``, ``docker stop``, a batch scheduler) interrupts as Ctrl-C
    does (KeyboardInterrupt), noted in :data:`SIGTERM_NOTED`: a study stops cleanly, keeps its trials and writes
    its results. For the command line only (a library caller's program keeps the default: SIGTERM ends it);
    installed only over the default handler.
    """
    SIGTERM_NOTED.clear()
    with sigint_handler(_sigterm, over=lambda previous: previous == signal.SIG_DFL, signum=signal.SIGTERM):
        yield


def _sigterm(signum: int, frame: Any) -> None:
    SIGTERM_NOTED.set()
    raise KeyboardInterrupt
