"""Finding and ending sshd processes precisely, through /proc (Linux).

sshd forks one monitor per connection and that monitor calls setsid(), so a per-connection
``sshd: user@notty`` process is in neither the listener's process group nor its session: killing the
group misses it, and once the listener is gone the monitor is re-parented and its PPID says nothing.
Two precise handles remain, and stop uses both:

* before the listener is killed, the PPID tree under it (monitors and their privilege-separated children);
* after, the processes that hold an established TCP socket whose *local* end is the register's port on
  127.0.0.1 (only the server side of a connection has that local port; an ssh client or a ControlPersist
  master has it as the remote end and is never touched).

``pkill -f`` on the config path would miss the monitors (their argv is rewritten to ``sshd: root@notty``)
and could hit an unrelated process whose command line merely mentions the path.
"""

from __future__ import annotations

import os
import signal
import time


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return None


def stat_fields(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, or None if it is gone."""
    raw = _read("/proc/%d/stat" % pid)
    if raw is None:
        return None
    # The command name is in parentheses and may itself hold spaces or parentheses.
    rest = raw[raw.rfind(")") + 2:].split()
    try:
        return rest[0], int(rest[1])
    except (IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (a zombie has exited; only its entry is left)."""
    fields = stat_fields(pid)
    if fields is None:
        return False
    if fields[0] in ("Z", "X"):
        reap(pid)
        return False
    return True


def reap(pid: int) -> None:
    """Collect our own exited child, if it is one (so it does not linger as a zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def cmdline(pid: int) -> list[str]:
    raw = _read("/proc/%d/cmdline" % pid)
    return [part for part in raw.split("\0") if part] if raw else []


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def listener_config(pid: int) -> str | None:
    """The config path (``-f PATH``) of the sshd listener ``pid``, or None if it is not one.

    sshd rewrites its argv into one string, ``sshd: /usr/sbin/sshd -f CFG -E LOG [listener] 0 of ...``;
    a re-exec'd connection child (``-R``) and a session (``sshd: root@notty``) are not listeners.
    """
    argv = " ".join(cmdline(pid))
    if "[listener]" not in argv or " -R" in argv:
        return None
    words = argv.split()
    for i, word in enumerate(words[:-1]):
        if word == "-f":
            return words[i + 1]
    return None


def sshd_listeners() -> dict[str, list[int]]:
    """Live sshd listeners by config path (one scan of /proc)."""
    found: dict[str, list[int]] = {}
    for pid in all_pids():
        config = listener_config(pid)
        if config is not None and alive(pid):
            found.setdefault(config, []).append(pid)
    return found


def children_map() -> dict[int, list[int]]:
    """PPID -> child pids, from one scan of /proc."""
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        fields = stat_fields(pid)
        if fields is not None:
            children.setdefault(fields[1], []).append(pid)
    return children


def descendants(root: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """Every process below ``root`` in the PPID tree (a snapshot; pass ``children`` to reuse one)."""
    if children is None:
        children = children_map()
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


_V4_LOOPBACK = "0100007F"
_V4_MAPPED_LOOPBACK = "0000000000000000FFFF00000100007F"


def _tcp_rows():
    """(local address hex, local port, state hex, inode) of every TCP socket in this network namespace."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        raw = _read(table)
        for line in (raw or "").splitlines()[1:]:
            cols = line.split()
            if len(cols) < 10:
                continue
            address, _, port = cols[1].partition(":")
            try:
                yield address, int(port, 16), cols[3], cols[9]
            except ValueError:
                continue


def port_listening(port: int) -> bool:
    """Whether some socket LISTENs on port ``port`` (any address)."""
    return any(p == port and state == "0A" for _, p, state, _ in _tcp_rows())


def session_holders(ports, exe_names: tuple[str, ...] = ("sshd",)) -> dict[int, list[int]]:
    """port -> sshd processes holding a server-side connection on 127.0.0.1:port (visible to this user).

    Only connected sockets count (not LISTEN), and only by their *local* end: the client side of a
    connection to the port (ssh, a ControlPersist master) has the port as its remote end.
    """
    wanted = set(ports)
    by_inode = {}
    for address, port, state, inode in _tcp_rows():
        if port in wanted and state != "0A" and inode != "0" and address in (_V4_LOOPBACK, _V4_MAPPED_LOOPBACK):
            by_inode["socket:[%s]" % inode] = port
    found: dict[int, list[int]] = {}
    if not by_inode:
        return found
    for pid in all_pids():
        if pid == os.getpid():
            continue
        try:
            if os.path.basename(os.readlink("/proc/%d/exe" % pid)) not in exe_names:
                continue
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                port = by_inode.get(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
            except OSError:
                continue
            if port is not None:
                found.setdefault(port, []).append(pid)
                break
    return found


def terminate(pids, grace_s: float = 3.0) -> list[int]:
    """SIGTERM, wait up to ``grace_s``, SIGKILL the rest. Returns the pids that were signalled."""
    signalled = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            signalled.append(pid)
        except ProcessLookupError:
            pass
        except PermissionError:
            pass   # not ours to end
    deadline = time.monotonic() + grace_s
    pending = [pid for pid in signalled if alive(pid)]
    while pending and time.monotonic() < deadline:
        time.sleep(0.02)
        pending = [pid for pid in pending if alive(pid)]
    for pid in pending:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 2.0
    while pending and time.monotonic() < deadline:
        time.sleep(0.02)
        pending = [pid for pid in pending if alive(pid)]
    return signalled
