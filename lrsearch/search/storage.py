"""Where a study lives: storage resolution, the trial-budget lock and heartbeats.

* default: an Optuna journal file ``studies/<study name>.journal`` (Optuna's
  recommendation for several processes on one machine; nothing to start);
* ``*.journal`` / ``*.log`` paths: a journal file there;
* ``sqlite:///...``, ``postgresql://...``, ``mysql://...``: Optuna's RDB storage, with
  heartbeats and :class:`optuna.storages.RetryHeartbeatStaleTrialCallback`, so a
  worker that dies mid-trial has its trial failed and retried, not left RUNNING;
* ``memory``: in-process only (tests, one worker).

:class:`StorageConfig` is picklable; each worker process opens its own storage
from it. :meth:`StorageConfig.budget_lock` serialises "count the trials, then
create one" across processes and machines (a file lock for journal and SQLite
files, a PostgreSQL advisory lock or MySQL ``GET_LOCK`` for servers), which is
what keeps the total trial count exact with any number of workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lrsearch.exceptions import LRSearchError
from lrsearch.search._signals import sigint_handler

__all__ = ["DEFAULT_STUDIES_DIR", "StorageConfig", "StorageError", "mask_url", "resolve_storage"]

log = logging.getLogger(__name__)

DEFAULT_STUDIES_DIR = "studies"
#: environment variable read when no storage is given (keeps passwords off the command line)
STORAGE_ENV = "LRSEARCH_STORAGE"
_RDB_PREFIXES = ("sqlite:", "postgresql", "postgres:", "mysql")


class StorageError(LRSearchError):
    """The study storage cannot be used: unreachable server, missing driver, bad URL, wrong study."""


#: seconds a PostgreSQL connection may take before it fails (libpq's connect_timeout; a URL may set its own)
CONNECT_TIMEOUT_S = 15


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``.

    >>> mask_url("postgresql://ann:secret@db.example:5432/studies")
    'postgresql://ann:***@db.example:5432/studies'
    >>> mask_url("postgresql://ann:p@ss@db:5432/studies")  # an '@' not percent-encoded: all of it is hidden
    'postgresql://ann:***@db:5432/studies'
    """
    if "://" not in url:
        return url
    scheme, _, rest = url.partition("://")
    netloc = rest.split("/", 1)[0]
    if netloc.count("@") <= 1:
        try:
            from sqlalchemy.engine import make_url

            return make_url(url).render_as_string(hide_password=True)
        except Exception:  # not a URL sqlalchemy understands: mask by hand, below
            pass
    creds, at, host = rest.rpartition("@")  # the last '@' ends the credentials (a password may hold one)
    if at and ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}{at}{host}"


def _libpq(url: str) -> bool:
    """Whether the URL's PostgreSQL driver is libpq's (psycopg 2 or 3), which takes ``connect_timeout``."""
    return url.startswith(("postgresql://", "postgresql+psycopg2://", "postgresql+psycopg://"))


def _scrub(text: str, url: str) -> str:
    """``text`` (a driver's message) without the URL's password or any part of it between '@'s.

    A password with an unencoded '@' is split by the driver into password and host, and the host part is
    quoted back in its errors ('could not translate host name "ssword@db"').

    >>> _scrub('host name "ssword@db"', "postgresql://ann:p@ssword@db/x")
    'host name "***@db"'
    """
    rest = url.partition("://")[2]
    creds = rest.rpartition("@")[0]
    password = creds.split(":", 1)[1] if ":" in creds else ""
    if "@" not in password:  # the driver read it whole, and quotes none of it
        return text
    text = text.replace(password, "***")
    for piece in password.split("@")[1:]:  # what the driver took for the start of the host: 'piece@host'
        if piece:
            text = text.replace(f"{piece}@", "***@")
    return text


@dataclass(frozen=True)
class StorageConfig:
    """A resolved storage location: ``kind`` is ``journal``, ``rdb`` or ``memory``."""

    kind: str
    location: str
    heartbeat_interval: int | None = None
    _memory: Any = field(default=None, compare=False, repr=False)

    @property
    def masked(self) -> str:
        """The location as it may be shown and saved (password masked)."""
        return mask_url(self.location) if self.kind == "rdb" else self.location

    @property
    def dialect(self) -> str:
        """``journal``, ``memory``, or the RDB dialect (``postgresql``, ``sqlite``, ``mysql``)."""
        if self.kind != "rdb":
            return self.kind
        head = self.location.split("://", 1)[0].split("+", 1)[0]
        return "postgresql" if head in ("postgres", "postgresql") else head

    def open(self) -> Any:
        """A new Optuna storage object for this location (raises :class:`StorageError`)."""
        from optuna.exceptions import ExperimentalWarning

        if self.kind == "memory":
            return self._memory
        if self.kind == "journal":
            path = Path(self.location)
            if path.is_dir():
                raise StorageError(f"storage '{path}' is a directory; give a journal file such as {path}/study.journal")
            _check_journal_file(path)  # again: it may have appeared since resolve_storage
            _remove_dangling_lock(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                from optuna.storages.journal import JournalStorage

                return JournalStorage(_journal_backend(str(path)))
            except OSError as exc:
                raise StorageError(f"cannot use journal file '{path}': {exc}") from None
        from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

        url = _normalise_url(self.location)
        kwargs: dict[str, Any] = {}
        if self.dialect in ("postgresql", "mysql"):
            kwargs["engine_kwargs"] = {"pool_pre_ping": True}
        if _libpq(url) and "connect_timeout" not in url:
            # a server that never answers (a firewall dropping packets) hung for minutes, deaf to Ctrl-C
            kwargs["engine_kwargs"]["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        hb = self.heartbeat_interval
        if hb:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                kwargs.update(heartbeat_interval=hb, grace_period=max(3 * hb, hb + 2),
                              heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=2))  # fmt: skip
        try:
            with warnings.catch_warnings(), _schema_lock(self):
                warnings.simplefilter("ignore", ExperimentalWarning)
                return RDBStorage(url, **kwargs)
        except ModuleNotFoundError as exc:
            raise StorageError(_driver_hint(self.dialect, exc)) from None
        except Exception as exc:  # sqlalchemy errors: connection refused, bad URL, auth
            name = type(exc).__name__
            if "NoSuchModule" in name or "No module named" in str(exc) or "DB access module" in str(exc):
                raise StorageError(_driver_hint(self.dialect, exc)) from None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else name
            raise StorageError(f"cannot open storage {self.masked}: {name}: {_scrub(first, self.location)}") from None

    def budget_lock(self, study_name: str) -> Any:
        """A reusable context manager: a lock shared by every worker of ``study_name`` (processes and machines)."""
        return _lock_for(self, study_name)


def _check_journal_file(path: Path) -> None:
    """Refuse an existing file that is not an Optuna journal (its first record must be a JSON object with an op code).

    Without this a CSV or a results JSON passed as ``--storage`` fails deep inside Optuna with a JSONDecodeError.
    """
    import json

    if path.is_dir():
        return  # StorageConfig.open says what to do with a folder
    try:
        with open(path, "rb") as f:
            first = f.readline(1 << 20)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StorageError(f"cannot read journal file '{path}': {exc.strerror}") from None
    if not first.strip():
        return  # a new, empty journal
    try:
        record = json.loads(first)
    except ValueError:
        record = None
    if not (isinstance(record, dict) and "op_code" in record):
        raise StorageError(f"'{path}' is not an Optuna journal file (its first line is not a journal record); "
                           "give a new file name such as studies/NAME.journal, or the journal lrsearch study wrote.")  # fmt: skip


def _remove_dangling_lock(path: Path) -> None:
    """Remove Optuna's journal lock when it is a symlink to nothing: a lock that earlier versions of lrsearch
    left (made with a relative target) after a Ctrl-C, on which every later run spun. A live lock always
    resolves: its target is the journal itself, now by an absolute path."""
    lock = Path(f"{os.path.abspath(path)}.lock")
    if os.path.islink(lock) and not os.path.exists(lock):
        log.warning("removing %s, a journal lock that points at nothing (left by an interrupted run)", lock)
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _journal_backend(path: str) -> Any:
    """Optuna's journal file backend, appending without ``fsync``, queueing on ``flock``.

    Optuna fsyncs every append (every parameter, report and attribute): about
    40% of a small trial's storage time, done under the journal's lock, so it
    serialised parallel workers. Without it a killed process loses nothing (the
    data is in the page cache); an OS crash or power cut may lose the last
    trials, which a resumed study simply runs again. Optuna's lock (a symlink)
    is polled with sleeps that double from 1 ms, so two busy writers wait on
    each other; lrsearch's writers first queue on a blocking ``flock`` and then
    take Optuna's lock, which stays the one that excludes any other Optuna
    process writing the file. The file format is unchanged.
    """
    import json

    from optuna.storages.journal import JournalFileBackend

    class JournalFileBackendNoSync(JournalFileBackend):
        def __init__(self, file_path: str) -> None:
            super().__init__(file_path)
            self._queue = _FileLock(Path(file_path).with_name(f".{Path(file_path).name}.append-lock"))

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            data = ("\n".join(json.dumps(entry, separators=(",", ":")) for entry in logs) + "\n").encode("utf-8")
            with self._queue:
                self._lock.acquire()  # a wait Ctrl-C can still interrupt (no lock is held until it returns)
                # from here Ctrl-C waits for the write and the release: one landing inside Optuna's release (a
                # rename, then an unlink) left the lock behind, and every later run of the study hung on it
                with _sigint_deferred():
                    try:
                        with open(self._file_path, "ab") as f:
                            f.write(data)
                            f.flush()
                    finally:
                        self._lock.release()

    # absolute: Optuna's lock is a symlink to this path, created beside it; a relative target resolved from the
    # symlink's own folder dangled, and Optuna's stale-lock release then spun on it for good
    return JournalFileBackendNoSync(os.path.abspath(path))


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a SIGINT (Ctrl-C) that arrives inside this block until it ends, then hand it to the handler it
    would have reached (Python's default raises KeyboardInterrupt), also when an exception is on its way; the
    same for a SIGTERM that a study handles (as Ctrl-C).

    Only the main thread can set a signal handler; elsewhere, or when a signal is
    ignored or left to the system, this does nothing for it.
    """
    pending: list[int] = []
    previous: dict[int, Any] = {}
    try:
        with sigint_handler(lambda signum, frame: pending.append(signum), over=callable) as previous_int, \
                sigint_handler(lambda signum, frame: pending.append(signum), over=callable,
                               signum=signal.SIGTERM) as previous_term:  # a study's SIGTERM handler: the same wait
            previous = {signal.SIGINT: previous_int, signal.SIGTERM: previous_term}
            yield
    finally:
        for signum in dict.fromkeys(pending):
            if previous.get(signum) is not None:
                previous[signum](signum, None)


def resolve_storage(
    storage: str | os.PathLike[str] | None,
    study_name: str,
    *,
    studies_dir: str | os.PathLike[str] = DEFAULT_STUDIES_DIR,
    heartbeat_interval: int | None = 10,
) -> StorageConfig:
    """Turn a ``--storage`` value into a :class:`StorageConfig`.

    ``None`` reads ``$LRSEARCH_STORAGE`` and falls back to the journal file
    ``<studies_dir>/<study_name>.journal``. ``heartbeat_interval`` (seconds;
    ``None`` or 0 disables) applies to RDB storages.

    >>> resolve_storage(None, "iris", studies_dir="studies").location
    'studies/iris.journal'
    >>> resolve_storage("postgresql://u:pw@h/db", "x").masked
    'postgresql://u:***@h/db'
    """
    if heartbeat_interval is not None and (isinstance(heartbeat_interval, bool) or not isinstance(heartbeat_interval, int)
                                           or heartbeat_interval < 0):  # fmt: skip
        raise StorageError(f"heartbeat_interval must be a whole number of seconds (0 or None: no heartbeats); "
                           f"got {heartbeat_interval!r}. Use e.g. --heartbeat 10.")  # fmt: skip
    if storage is None:
        storage = os.environ.get(STORAGE_ENV) or None
    if storage is None:
        path = Path(studies_dir) / f"{study_name}.journal"
        _check_journal_file(path)
        return StorageConfig("journal", str(path))
    text = os.fspath(storage).strip()
    if not text:
        raise StorageError("--storage is empty; give a journal file, a database URL or 'memory'.")
    if text in ("memory", ":memory:"):
        from optuna.storages import InMemoryStorage

        return StorageConfig("memory", "memory", _memory=InMemoryStorage())
    if text.startswith("redis"):
        raise StorageError("Redis storage is not supported by lrsearch; use a journal file or PostgreSQL.")
    if "://" in text:
        if not text.startswith(_RDB_PREFIXES):
            raise StorageError(f"unsupported storage URL {mask_url(text)}; use sqlite:///FILE, "
                               f"postgresql://USER:PASSWORD@HOST/DB or mysql://... (or a .journal file)")  # fmt: skip
        hb = int(heartbeat_interval) if heartbeat_interval else None
        if text.startswith("sqlite:") and text.rstrip("/").endswith(":memory:"):
            raise StorageError("sqlite in memory is private to one process; use 'memory' or a file.")
        return StorageConfig("rdb", text, heartbeat_interval=hb)
    _check_journal_file(Path(text))
    return StorageConfig("journal", text)


def _normalise_url(url: str) -> str:
    """Name the PostgreSQL driver that is installed when the URL names none.

    ``postgres://`` (Heroku style) means ``postgresql://``. SQLAlchemy 2.0 picks
    psycopg2 for a bare ``postgresql://`` and 2.1 picks psycopg (3); lrsearch uses
    whichever of the two is installed (psycopg first), so either package works.
    """
    import importlib.util

    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
            if importlib.util.find_spec(module) is not None:
                return f"postgresql+{driver}://" + url[len("postgresql://") :]
    return url


def _driver_hint(dialect: str, exc: BaseException) -> str:
    if dialect == "postgresql":
        return (
            f"PostgreSQL storage needs a driver ({exc}); install one with pip install 'lrsearch[postgres]' "
            f"(psycopg2-binary) or pip install 'psycopg[binary]'."
        )
    if dialect == "mysql":
        return (
            f"MySQL storage needs a driver ({exc}); install one, e.g. pip install pymysql, and use mysql+pymysql://..."
        )
    return f"the storage driver is missing: {exc}"


# -- the budget lock ---------------------------------------------------------------------

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_SERVER_LOCKS: dict[tuple[str, str], _ServerLock] = {}


def _lock_key(study_name: str) -> int:
    """A stable signed 63-bit key for an advisory lock."""
    return int.from_bytes(hashlib.sha256(f"lrsearch:{study_name}".encode()).digest()[:8], "big") >> 1


class _schema_lock:
    """Serialise Optuna's table creation: machines starting together on an empty database
    would otherwise race in CREATE TABLE (a unique-violation error in PostgreSQL)."""

    def __init__(self, cfg: StorageConfig):
        self.lock = _ServerLock(cfg, "<schema>") if cfg.dialect in ("postgresql", "mysql") else None

    def __enter__(self) -> None:
        if self.lock is not None:
            self.lock.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self.lock is not None:
            try:
                self.lock.__exit__(*exc)
            finally:
                self.lock.close()


def _lock_for(cfg: StorageConfig, study_name: str) -> Any:
    if cfg.kind == "journal":  # a hidden side file: Optuna's own "<journal>.lock" is a symlink it creates and removes
        return _FileLock(Path(cfg.location).with_name(f".{Path(cfg.location).name}.lrsearch-lock"))
    if cfg.kind == "memory":
        return _THREAD_LOCKS.setdefault(f"memory:{id(cfg._memory)}:{study_name}", threading.Lock())
    if cfg.dialect == "sqlite":
        db = cfg.location.split(":///", 1)[-1]
        return _FileLock(Path(db).with_name(f".{Path(db).name}.lrsearch-lock"))
    key = (cfg.location, study_name)
    if key not in _SERVER_LOCKS:
        _SERVER_LOCKS[key] = _ServerLock(cfg, study_name)
    return _SERVER_LOCKS[key]


class _FileLock:
    """An exclusive ``flock`` on a side file (POSIX; its descriptor stays open); a no-op with a warning elsewhere."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._thread_lock = _THREAD_LOCKS.setdefault(f"file:{path}", threading.Lock())

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            log.warning("no file locking on this platform: the trial count may overshoot by up to n_jobs - 1")
            return
        try:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._fd is not None:
                import fcntl

                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def __del__(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass


class _ServerLock:
    """A PostgreSQL advisory lock (or MySQL named lock) on a dedicated connection.

    Session-level: if the worker dies, its connection closes and the lock is released.
    """

    def __init__(self, cfg: StorageConfig, study_name: str):
        self.cfg = cfg
        self.key = _lock_key(study_name)
        self.name = f"lrsearch:{study_name}"[:64]
        self._conn: Any = None
        self._thread_lock = threading.Lock()

    def _connection(self) -> Any:
        if self._conn is None:
            import sqlalchemy
            from sqlalchemy.pool import NullPool

            url = _normalise_url(self.cfg.location)
            extra = ({"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}
                     if _libpq(url) and "connect_timeout" not in url else {})  # fmt: skip
            engine = sqlalchemy.create_engine(url, poolclass=NullPool, **extra)
            self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def __enter__(self) -> None:
        from sqlalchemy import text

        self._thread_lock.acquire()
        try:
            conn = self._connection()
            if self.cfg.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            elif self.cfg.dialect == "mysql":
                conn.execute(text("SELECT GET_LOCK(:n, 600)"), {"n": self.name})
        except Exception:
            self._thread_lock.release()
            raise

    def close(self) -> None:
        if self._conn is not None:
            engine = self._conn.engine
            self._conn.close()
            engine.dispose()
            self._conn = None

    def __exit__(self, *exc: Any) -> None:
        from sqlalchemy import text

        try:
            if self.cfg.dialect == "postgresql":
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            elif self.cfg.dialect == "mysql":
                self._conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": self.name})
        finally:
            self._thread_lock.release()


# -- heartbeats --------------------------------------------------------------------------


class Heartbeat:
    """Record a trial's heartbeat now and then every ``interval`` seconds in a thread.

    Optuna's own heartbeat thread lives inside ``Study.optimize``; lrsearch runs
    its own ask/tell loop (to keep the trial budget exact), so it beats here.
    A no-op for storages without heartbeats (journal, memory).
    """

    def __init__(self, storage: Any, trial_id: int):
        get = getattr(storage, "get_heartbeat_interval", None)
        self.interval = get() if get is not None else None
        self.storage = storage
        self.trial_id = trial_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        if self.interval:
            self.storage.record_heartbeat(self.trial_id)
            self._thread = threading.Thread(target=self._run, name=f"lrsearch-heartbeat-{self.trial_id}", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception as exc:  # a transient database error must not kill the trial
                log.warning("heartbeat of trial id %d failed: %s", self.trial_id, exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
