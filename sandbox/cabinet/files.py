"""The server's files in the data dir (pid, url, log) and the process checks built on them."""

from __future__ import annotations

import http.client
import os
import ssl
from pathlib import Path
from urllib.parse import urlsplit

PID_NAME = "cabinet.pid"
URL_NAME = "cabinet.url"
LOG_NAME = "cabinet.log"
LOCK_NAME = "cabinet.lock"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp%d" % os.getpid())
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def read_pid(data_dir: Path) -> int | None:
    text = read_text(Path(data_dir) / PID_NAME)
    try:
        return int(text) if text else None
    except ValueError:
        return None


def remove_if_ours(pid_file: Path, url_file: Path) -> None:
    """On exit, remove the files only if they are still ours (a newer server may have replaced them)."""
    if read_text(pid_file) == str(os.getpid()):
        for path in (url_file, pid_file):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def remove_files(data_dir: Path) -> None:
    for name in (PID_NAME, URL_NAME):
        try:
            (Path(data_dir) / name).unlink()
        except FileNotFoundError:
            pass


def pid_alive(pid: int) -> bool:
    try:
        # Reap it if it is our own child (a test that started it in-process), or it stays a zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_cabinet_server(pid: int) -> bool:
    """Guards against a recycled PID: only signal a process that is a cabinet server."""
    try:
        cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid file
    return b"sandbox" in cmdline and b"cabinet" in cmdline


def health_ok(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        # The sandbox's own certificate is usually self-signed; this only asks "is it up".
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def log_tail(data_dir: Path, lines: int = 40) -> str:
    try:
        text = (Path(data_dir) / LOG_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
