"""Register hosts: one OpenSSH ``sshd`` per register on 127.0.0.1, each with its own port and home.

Layout under ``<data-dir>/registers/`` (everything survives stop/start)::

    registers.json              the registry: cabinet URL, inventory path, each register's port
    client_ed25519[.pub]        the one client key pair that logs into every register
    authorized_keys             that public key (every sshd_config points here, absolute path)
    .lock                       serialises start/stop/status on this data dir
    regNN/ssh/                  sshd_config, host_ed25519[.pub], sshd.pid, sshd.log
    regNN/home/                 the agent's home: agent.json, state.json, credentials.json, bin/modulkassa_agent.py
    regNN/bin/modulkassa-agent  the wrapper a playbook runs (``modulkassa_agent_path``)

No root is needed: sshd runs as the invoking user and accepts key logins as that user only. As root it
also needs /run/sshd (created here). A non-root user must not have a locked password entry (with
``UsePAM no`` sshd refuses locked accounts: ``usermod -p '*' USER``).
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.registers import procs

REPO_ROOT = Path(__file__).resolve().parents[2]
AGENT_SOURCE = REPO_ROOT / "sandbox" / "agent" / "modulkassa_agent.py"
DEFAULT_INVENTORY = REPO_ROOT / "inventories" / "sandbox" / "registers.generated.yml"
DEFAULT_BASE_PORT = 22201
MODEL = "MSPOS-K"
APP_VERSION = "1.0.0"
SSH_COMMON_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
SSH_READY_TIMEOUT_S = 10.0
SSHD_LISTEN_TIMEOUT_S = 5.0
MAX_PORT_TRIES = 50


class RegistersError(Exception):
    pass


def register_name(index: int) -> str:
    return "reg%02d" % index


def serial_for(name: str) -> str:
    return "SN-" + name.upper()


def current_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def find_sshd() -> str:
    for candidate in (os.environ.get("MODULKASSA_SANDBOX_SSHD"), "/usr/sbin/sshd", shutil.which("sshd")):
        if candidate and os.path.isabs(candidate) and os.access(candidate, os.X_OK):
            return candidate   # sshd re-executes itself per connection: it must be an absolute path
    raise RegistersError("sshd not found (install openssh-server, or set MODULKASSA_SANDBOX_SSHD)")


def find_register_python() -> str:
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RegistersError("no python3 for the register agent")


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(".%s.%d.tmp" % (path.name, os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def sshd_quote(value: str) -> str:
    return '"%s"' % value if any(c.isspace() for c in value) else value


class Register:
    def __init__(self, root: Path, name: str):
        self.name = name
        self.dir = root / name
        self.ssh_dir = self.dir / "ssh"
        self.home = self.dir / "home"
        self.config = self.ssh_dir / "sshd_config"
        self.host_key = self.ssh_dir / "host_ed25519"
        self.pid_file = self.ssh_dir / "sshd.pid"
        self.log = self.ssh_dir / "sshd.log"
        self.agent = self.home / "bin" / "modulkassa_agent.py"
        self.wrapper = self.dir / "bin" / "modulkassa-agent"
        self.serial = serial_for(name)

    def pid(self, listeners: dict[str, list[int]] | None = None) -> int | None:
        """The listener's pid if it is running and really is this register's sshd.

        The PidFile first; if it is missing or stale, the listener started with this register's config
        found in /proc (sshd unlinks its PidFile path when it exits, so a second sshd that died on the same
        config can take the file away from a live one). ``listeners``: a snapshot from
        procs.sshd_listeners(), to scan /proc once for many registers.
        """
        pid = self.pid_from_file()
        if pid is not None:
            return pid
        found = self.listeners(listeners)
        if found:
            try:
                atomic_write(self.pid_file, "%d\n" % found[0], 0o644)
            except OSError:
                pass
            return found[0]
        return None

    def pid_from_file(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if procs.alive(pid) and procs.listener_config(pid) == str(self.config):
            return pid
        return None

    def listeners(self, snapshot: dict[str, list[int]] | None = None) -> list[int]:
        """Every live listener on this register's config (normally one)."""
        if snapshot is None:
            snapshot = procs.sshd_listeners()
        return [pid for pid in snapshot.get(str(self.config), []) if procs.alive(pid)]


class Sandbox:
    """The register hosts of one data dir."""

    def __init__(self, data_dir: str | os.PathLike):
        self.data_dir = Path(data_dir).resolve()
        self.root = self.data_dir / "registers"
        self.registry_path = self.root / "registers.json"
        self.client_key = self.root / "client_ed25519"
        self.authorized_keys = self.root / "authorized_keys"
        self._lock_fd = None

    # ------------------------------------------------------------------ registry and lock
    def __enter__(self):
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self._lock_fd)
        self._lock_fd = None

    def load_registry(self) -> dict:
        try:
            registry = json.loads(self.registry_path.read_text())
        except FileNotFoundError:
            registry = {}
        except ValueError as exc:
            raise RegistersError("%s is not valid JSON: %s" % (self.registry_path, exc))
        registry.setdefault("registers", {})
        return registry

    def save_registry(self, registry: dict) -> None:
        atomic_write(self.registry_path, json.dumps(registry, indent=2, sort_keys=True) + "\n", 0o600)

    def register(self, name: str) -> Register:
        return Register(self.root, name)

    # ------------------------------------------------------------------ start
    def start(self, count: int | None, cabinet_url: str | None, inventory: str | None = None,
              base_port: int | None = None, only: str | None = None) -> dict:
        began = time.monotonic()
        registry = self.load_registry()
        cabinet_url = cabinet_url or registry.get("cabinetUrl")
        if not cabinet_url:
            raise RegistersError("--cabinet-url is required (no URL is recorded for this data dir yet)")
        count = count or registry.get("count") or len(registry["registers"])
        if not count or count < 1:
            raise RegistersError("--count N is required (no registers exist in this data dir yet)")
        base_port = base_port or registry.get("basePort") or DEFAULT_BASE_PORT
        names = [register_name(i) for i in range(1, count + 1)]
        if only is not None and only not in names:
            raise RegistersError("--only %s: not one of %s..%s" % (only, names[0], names[-1]))
        targets = [only] if only else names
        inventory_path = Path(inventory).resolve() if inventory else Path(
            registry.get("inventory") or DEFAULT_INVENTORY)
        registry.update({"cabinetUrl": cabinet_url, "count": count, "basePort": base_port,
                         "inventory": str(inventory_path)})

        sshd = find_sshd()
        python = find_register_python()
        user = current_user()
        self._ensure_client_key()
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # privilege separation, root only

        results = {}
        launching = []
        snapshot = procs.sshd_listeners()
        for name in targets:
            reg = self.register(name)
            self._ensure_register_files(reg, cabinet_url, python)
            pid = reg.pid(snapshot)
            entry = registry["registers"].setdefault(name, {})
            if pid is not None and entry.get("port"):
                results[name] = {"state": "running", "pid": pid}
                continue
            launching.append(reg)
        try:
            self._launch(launching, registry, sshd, user, base_port, results)
        except BaseException:
            self._stop_started(launching)   # a failed start leaves nothing of its own running
            raise
        self.save_registry(registry)   # ports are recorded before the (slower) login check

        # A register started now must accept a real key login (``ssh ... true``) before it counts as up.
        # One that was already running passed that check when it started; it only has to answer with an
        # SSH banner (a login costs about 0.3 s of CPU as root here, which adds up over 100 registers).
        key = str(self.client_key)

        def check(name):
            port = registry["registers"][name]["port"]
            if results[name]["state"] == "running" and ssh_banner(port):
                return None
            return wait_for_login(key, user, port)

        with ThreadPoolExecutor(max_workers=min(16, len(targets))) as pool:
            checks = dict(zip(targets, pool.map(check, targets)))
        failed = {name: err for name, err in checks.items() if err}
        if failed:
            self._stop_started([reg for reg in launching if reg.name in failed])
            raise RegistersError("no SSH login within %.0f s: %s" % (SSH_READY_TIMEOUT_S, "; ".join(
                "%s (port %s): %s" % (n, registry["registers"][n]["port"], e) for n, e in sorted(failed.items()))))

        write_inventory(inventory_path, self, registry, names, user, python)
        summary = {"dataDir": str(self.data_dir), "inventory": str(inventory_path), "user": user,
                   "registers": [], "seconds": round(time.monotonic() - began, 2)}
        for name in targets:
            reg = self.register(name)
            summary["registers"].append({"name": name, "port": registry["registers"][name]["port"],
                                         "serial": reg.serial, **results[name]})
        return summary

    def _stop_started(self, regs: list[Register]) -> None:
        snapshot = procs.sshd_listeners()
        for reg in regs:
            procs.terminate(reg.listeners(snapshot))

    def _ensure_client_key(self) -> None:
        if not self.client_key.exists():
            keygen(self.client_key, "modulkassa-sandbox-client")
        pub = (self.client_key.parent / (self.client_key.name + ".pub")).read_text()
        if not self.authorized_keys.exists() or self.authorized_keys.read_text() != pub:
            atomic_write(self.authorized_keys, pub, 0o600)

    def _ensure_register_files(self, reg: Register, cabinet_url: str, python: str) -> None:
        for directory in (reg.ssh_dir, reg.home, reg.agent.parent, reg.wrapper.parent):
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(reg.home, 0o700)
        if not reg.host_key.exists():
            keygen(reg.host_key, "%s-host" % reg.name)
        # The agent is copied (not linked): a deployment copies it onto the register the same way, and
        # the register then runs its own copy. Re-copied on every start, so a new agent takes effect.
        source = AGENT_SOURCE.read_bytes()
        if not reg.agent.exists() or reg.agent.read_bytes() != source:
            atomic_write(reg.agent, source.decode("utf-8"), 0o755)
        wrapper = "#!/bin/sh\nMODULKASSA_AGENT_HOME=%s exec %s %s \"$@\"\n" % (
            shlex.quote(str(reg.home)), shlex.quote(python), shlex.quote(str(reg.agent)))
        if not reg.wrapper.exists() or reg.wrapper.read_text() != wrapper:
            atomic_write(reg.wrapper, wrapper, 0o755)
        # agent.json: identity set once; the cabinet URL follows the latest start (the emulator may
        # come back on another port). Other keys (caPath, timeout) are kept.
        config_path = reg.home / "agent.json"
        try:
            config = json.loads(config_path.read_text())
        except (OSError, ValueError):
            config = {}
        wanted = dict(config)
        wanted.setdefault("serial", reg.serial)
        wanted.setdefault("model", MODEL)
        wanted.setdefault("appVersion", APP_VERSION)
        wanted["cabinetUrl"] = cabinet_url
        if wanted != config:
            atomic_write(config_path, json.dumps(wanted, indent=2, sort_keys=True) + "\n", 0o644)

    def _write_sshd_config(self, reg: Register, port: int, user: str) -> None:
        lines = [
            "# Written by `python -m sandbox registers start`; rewritten on every start.",
            "Port %d" % port,
            "ListenAddress 127.0.0.1",
            "HostKey %s" % sshd_quote(str(reg.host_key)),
            "PidFile %s" % sshd_quote(str(reg.pid_file)),
            "AuthorizedKeysFile %s" % sshd_quote(str(self.authorized_keys)),
            "AllowUsers %s" % user,
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "MaxStartups 200:30:400",
            "MaxSessions 200",
            "Subsystem sftp internal-sftp",
            "LogLevel ERROR",
            "",
        ]
        atomic_write(reg.config, "\n".join(lines), 0o644)

    def _launch(self, regs: list[Register], registry: dict, sshd: str, user: str, base_port: int,
                results: dict) -> None:
        """Start each sshd on its recorded port, or on a free one found from ``base_port`` up.

        sshd daemonises *before* it binds, so its exit status cannot report a taken port. It writes its
        PidFile only after listening; "Cannot bind any address" in its log means the port was taken (by
        another data dir's register, say) between our check and its bind: then try the next port.
        """
        pending = {}
        taken = {e["port"] for n, e in registry["registers"].items() if e.get("port")
                 and n not in {r.name for r in regs}}
        next_port = base_port
        for reg in regs:
            entry = registry["registers"].setdefault(reg.name, {})
            port = entry.get("port")
            if not port or not port_is_free(port):
                if port:
                    entry.setdefault("movedFrom", []).append(port)
                port, next_port = find_free_port(next_port, taken)
            taken.add(port)
            entry["port"] = port
            pending[reg.name] = (reg, 0)
        tries = 0
        while pending:
            tries += 1
            if tries > MAX_PORT_TRIES:
                raise RegistersError("could not bind sshd for %s" % ", ".join(sorted(pending)))
            started = {}
            for name, (reg, _) in pending.items():
                port = registry["registers"][name]["port"]
                self._write_sshd_config(reg, port, user)
                try:
                    reg.pid_file.unlink()
                except FileNotFoundError:
                    pass
                offset = reg.log.stat().st_size if reg.log.exists() else 0
                proc = subprocess.run([sshd, "-f", str(reg.config), "-E", str(reg.log)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=30)
                if proc.returncode != 0:
                    raise RegistersError("%s: sshd refused to start (rc %d): %s%s" % (
                        name, proc.returncode, proc.stdout.decode(errors="replace").strip(),
                        read_from(reg.log, offset)))
                started[name] = (reg, offset)
            retry = {}
            deadline = time.monotonic() + SSHD_LISTEN_TIMEOUT_S
            while started:
                for name, (reg, offset) in list(started.items()):
                    pid = reg.pid_from_file()
                    if pid is not None:
                        results[name] = {"state": "started", "pid": pid}
                        del started[name]
                        continue
                    log = read_from(reg.log, offset)
                    if "Cannot bind any address" in log or "Address already in use" in log:
                        entry = registry["registers"][name]
                        entry.setdefault("movedFrom", []).append(entry["port"])
                        port, next_port = find_free_port(next_port, taken)
                        taken.add(port)
                        entry["port"] = port
                        retry[name] = (reg, 0)
                        del started[name]
                    elif "fatal" in log.lower() or "error" in log.lower():
                        raise RegistersError("%s: sshd failed: %s" % (name, log.strip()))
                if started and time.monotonic() > deadline:
                    raise RegistersError("sshd did not start listening within %.0f s: %s" % (
                        SSHD_LISTEN_TIMEOUT_S, ", ".join(sorted(started))))
                if started:
                    time.sleep(0.02)
            pending = retry
        for entry in registry["registers"].values():
            if entry.get("movedFrom"):
                entry["movedFrom"] = entry["movedFrom"][-5:]

    # ------------------------------------------------------------------ stop and status
    def stop(self, only: str | None = None) -> dict:
        """Stop the listeners, then every session they had handed over (all registers in one batch).

        A per-connection sshd calls setsid(), so it survives its listener (it would linger until the client,
        e.g. a ControlPersist master, hangs up). It is found by the PPID tree taken before the listener
        dies and by the server-side sockets on the register's port, and ended too.
        """
        registry = self.load_registry()
        names = sorted(registry["registers"])
        if only is not None:
            if only not in names:
                raise RegistersError("--only %s: no such register in %s" % (only, self.root))
            names = [only]
        snapshot = procs.sshd_listeners()
        children = procs.children_map()
        records, listeners, below, ports = {}, {}, {}, {}
        for name in names:
            reg = self.register(name)
            port = registry["registers"][name].get("port")
            records[name] = {"name": name, "port": port, "state": "not-running"}
            listeners[name] = reg.listeners(snapshot)
            below[name] = {child for listener in listeners[name] for child in procs.descendants(listener, children)}
            # Without a listener of ours, a session on the port is ours only if nobody else listens there
            # (the listener was killed by hand, say); a port now taken by another sshd is not ours to clear.
            if port and (listeners[name] or not procs.port_listening(port)):
                ports[name] = port
        procs.terminate([pid for pids in listeners.values() for pid in pids])
        holders = procs.session_holders(ports.values())
        sessions = {}
        for name in names:
            found = set(below[name]) | set(holders.get(ports.get(name), []))
            sessions[name] = sorted(found - set(listeners[name]))
        ended = set(procs.terminate(sorted({pid for pids in sessions.values() for pid in pids}), grace_s=2.0))
        for name in names:
            record = records[name]
            if listeners[name]:
                pids = listeners[name]
                record.update({"state": "stopped", "pid": pids[0] if len(pids) == 1 else pids})
            count = len([pid for pid in sessions[name] if pid in ended])
            if listeners[name] or count:
                record["sessionsEnded"] = count
            try:
                self.register(name).pid_file.unlink()
            except FileNotFoundError:
                pass
        return {"dataDir": str(self.data_dir), "registers": [records[name] for name in names]}

    def status(self) -> dict:
        registry = self.load_registry()
        out = {"dataDir": str(self.data_dir), "inventory": registry.get("inventory"),
               "cabinetUrl": registry.get("cabinetUrl"), "registers": []}
        snapshot = procs.sshd_listeners()
        for name in sorted(registry["registers"]):
            reg = self.register(name)
            pid = reg.pid(snapshot)
            out["registers"].append({"name": name, "serial": reg.serial,
                                     "port": registry["registers"][name].get("port"),
                                     "running": pid is not None, "pid": pid,
                                     "agent": str(reg.wrapper), "home": str(reg.home)})
        out["running"] = sum(1 for r in out["registers"] if r["running"])
        return out


# ---------------------------------------------------------------------- helpers
def keygen(path: Path, comment: str) -> None:
    for stale in (path, path.with_name(path.name + ".pub")):
        try:
            stale.unlink()
        except FileNotFoundError:
            pass
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def read_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read(8192).decode("utf-8", "replace")
    except OSError:
        return ""


def port_is_free(port: int) -> bool:
    """Whether sshd could bind 127.0.0.1:port now (it sets SO_REUSEADDR, so TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_free_port(start: int, taken: set) -> tuple[int, int]:
    """(a free port >= start not in ``taken``, where the next search should begin)."""
    port = start
    while port < 65535:
        if port not in taken and port_is_free(port):
            return port, port + 1
        port += 1
    raise RegistersError("no free port from %d up" % start)


def ssh_command(key: str, user: str, port: int, *remote: str) -> list[str]:
    return ["ssh", "-F", "/dev/null", "-i", key, "-p", str(port), "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", "-o", "ControlMaster=no",
            "%s@127.0.0.1" % user, *remote]


def ssh_banner(port: int, timeout: float = 2.0) -> bool:
    """Whether 127.0.0.1:port answers with an SSH identification string."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(64).startswith(b"SSH-2.0-")
    except OSError:
        return False


def wait_for_login(key: str, user: str, port: int) -> str | None:
    """None once ``ssh ... true`` succeeds; the last error if it does not within the timeout."""
    deadline = time.monotonic() + SSH_READY_TIMEOUT_S
    last = ""
    while True:
        try:
            proc = subprocess.run(ssh_command(key, user, port, "true"), stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=max(1.0, deadline - time.monotonic()))
            if proc.returncode == 0:
                return None
            last = proc.stderr.decode(errors="replace").strip() or "rc %d" % proc.returncode
        except subprocess.TimeoutExpired:
            last = "timed out"
        if time.monotonic() >= deadline:
            return last
        time.sleep(0.1)


def write_inventory(path: Path, sandbox: Sandbox, registry: dict, names: list[str], user: str,
                    python: str) -> None:
    q = json.dumps   # a JSON string is a valid YAML double-quoted scalar
    lines = [
        "# Generated by `python -m sandbox registers start --data-dir %s`." % sandbox.data_dir,
        "# Rewritten on every start; not kept in git (ports and key paths are per machine).",
        "all:",
        "  children:",
        "    registers:",
        "      hosts:",
    ]
    for name in names:
        reg = sandbox.register(name)
        lines += [
            "        %s:" % name,
            "          ansible_host: 127.0.0.1",
            "          ansible_port: %d" % registry["registers"][name]["port"],
            "          ansible_user: %s" % q(user),
            "          ansible_ssh_private_key_file: %s" % q(str(sandbox.client_key)),
            "          ansible_ssh_common_args: %s" % q(SSH_COMMON_ARGS),
            "          ansible_python_interpreter: %s" % q(python),
            "          modulkassa_agent_path: %s" % q(str(reg.wrapper)),
            "          modulkassa_register_serial: %s" % q(reg.serial),
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, "\n".join(lines) + "\n", 0o644)
