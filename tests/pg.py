"""A throwaway PostgreSQL cluster for tests: temp dir, free loopback port, removed afterwards.

``postgres_server()`` finds ``initdb``/``pg_ctl`` (on PATH or under
``/usr/lib/postgresql/*/bin``), creates a cluster in a fresh temp directory
(owned by the ``postgres`` OS user when running as root, because the server
refuses to run as root), starts it on a free 127.0.0.1 port with trust
authentication and durability off (fast, disposable), creates a database and
yields its URL; it stops the server and deletes the directory afterwards.
Test modules register it as a fixture and skip when :func:`skip_reason` says so.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["find_pg_bin", "postgres_server", "skip_reason"]

DB_USER = "lrsearch"
DB_NAME = "studies"


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key, reverse=True)
    for path in candidates:
        bin_dir = Path(path).parent
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    return None


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parts[-3])
    except ValueError:
        return 0.0


def skip_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None."""
    if find_pg_bin() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install psycopg2-binary)"
    if os.geteuid() == 0 and not _has_user("postgres"):
        return "running as root without a 'postgres' OS user to run the server"
    if os.geteuid() == 0 and not (shutil.which("runuser") or shutil.which("su")):
        return "running as root without runuser or su to drop privileges"
    return None


def _has_user(name: str) -> bool:
    try:
        import pwd

        pwd.getpwnam(name)
        return True
    except (ImportError, KeyError):
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    import shlex

    return ["su", "postgres", "-c", " ".join(shlex.quote(c) for c in cmd)]


def _run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway cluster; yield ``postgresql://lrsearch@127.0.0.1:PORT/studies``."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError(skip_reason() or "no PostgreSQL binaries")
    root = Path(tempfile.mkdtemp(prefix="lrsearch-pg-"))  # directly under /tmp: the server user must reach it
    data = root / "data"
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    started = False
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", DB_USER, "--auth=trust", "-E", "UTF8", "--no-sync"])
        for attempt in range(5):
            port = _free_port()
            opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                    f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")  # fmt: skip
            try:
                _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "server.log"), "-w",
                      "-t", "60", "start"])  # fmt: skip
                started = True
                break
            except RuntimeError:
                if attempt == 4:
                    log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
                    raise RuntimeError(f"PostgreSQL did not start: {log[-2000:]}") from None
                time.sleep(0.2)
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user=DB_USER, dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {DB_NAME}")
        conn.close()
        yield f"postgresql://{DB_USER}@127.0.0.1:{port}/{DB_NAME}"
    finally:
        if started:
            with contextlib.suppress(Exception):
                _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], timeout=30)
        shutil.rmtree(root, ignore_errors=True)
