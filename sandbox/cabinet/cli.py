"""``python -m sandbox cabinet start|stop|serve|status --data-dir D ...``

start   serve in the background, wait for /health, print the URL (the only stdout line); idempotent
stop    SIGTERM by PID, SIGKILL after 5 s; no error if not running
serve   the foreground server
status  print the URL and exit 0 if running, exit 3 if not
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sandbox.cabinet.files import (LOCK_NAME, LOG_NAME, PID_NAME, URL_NAME, health_ok, is_cabinet_server, log_tail,
                                   pid_alive, read_pid, read_text, remove_files, write_atomic)

REPO_ROOT = Path(__file__).resolve().parents[2]  # where "python -m sandbox" resolves
START_TIMEOUT_S = 15.0
STOP_GRACE_S = 5.0
NOT_RUNNING = 3

# --flag -> (knob, type)
KNOB_FLAGS = {
    "--latency-ms": ("latency_ms", float),
    "--latency-jitter-ms": ("latency_jitter_ms", float),
    "--p-429": ("p_429", float),
    "--retry-after-s": ("retry_after_s", int),
    "--p-5xx": ("p_5xx", float),
    "--p-drop-before": ("p_drop_before", float),
    "--p-drop-after": ("p_drop_after", float),
    "--fault-methods": ("fault_methods", lambda text: [m.strip() for m in text.split(",") if m.strip()]),
    "--seed": ("seed", int),
    "--code-ttl-s": ("code_ttl_s", float),
    "--max-code-attempts": ("max_code_attempts", int),
}


def _absolute(text: str) -> Path:
    # start runs serve from the repository root: relative paths must not change meaning.
    return Path(text).expanduser().resolve()


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--config", type=_absolute, help="JSON config: accounts and knobs (rewrites config.json)")
    parser.add_argument("--tls-cert", type=_absolute, help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", type=_absolute, help="the certificate's private key (PEM)")
    knobs = parser.add_argument_group("knobs (override config.json for this run)")
    for flag, (knob, kind) in KNOB_FLAGS.items():
        knobs.add_argument(flag, dest="knob_" + knob, type=kind, metavar=knob.upper())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox cabinet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("start", "start in the background"), ("serve", "run in the foreground")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--data-dir", type=_absolute, required=True)
        _server_options(sub)
        if name == "start":
            sub.add_argument("--timeout", type=float, default=START_TIMEOUT_S, help="seconds to wait for /health")
    for name, help_text in (("stop", "stop the background server"), ("status", "is it running?")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--data-dir", type=_absolute, required=True)
    return parser


def _knob_overrides(args) -> dict:
    return {knob: getattr(args, "knob_" + knob) for knob, _ in KNOB_FLAGS.values()
            if getattr(args, "knob_" + knob) is not None}


def _serve_argv(args) -> list[str]:
    argv = ["--data-dir", str(args.data_dir), "--port", str(args.port)]
    for flag, value in (("--config", args.config), ("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if value is not None:
            argv += [flag, str(value)]
    for flag, (knob, _kind) in KNOB_FLAGS.items():
        value = getattr(args, "knob_" + knob)
        if value is not None:
            argv += [flag, ",".join(value) if isinstance(value, list) else str(value)]
    return argv


def running_url(data_dir: Path) -> str | None:
    """The URL of a healthy server for this data dir, or None."""
    pid = read_pid(data_dir)
    url = read_text(data_dir / URL_NAME)
    if pid and url and pid_alive(pid) and is_cabinet_server(pid) and health_ok(url):
        return url
    return None


def _fail(data_dir: Path, reason: str) -> int:
    print("cabinet start: %s\n--- last lines of %s ---\n%s" % (reason, data_dir / LOG_NAME, log_tail(data_dir)),
          file=sys.stderr)
    return 1


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not pid_alive(pid):
            return
        time.sleep(0.02)


def start(args) -> int:
    data_dir: Path = args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("cabinet start: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    # One start at a time per data dir: two concurrent starts must not spawn two servers.
    with open(data_dir / LOCK_NAME, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        url = running_url(data_dir)
        if url:
            print(url)
            return 0
        old_pid = read_pid(data_dir)
        if old_pid and pid_alive(old_pid) and is_cabinet_server(old_pid):
            _terminate(old_pid)  # alive but not answering /health: replace it
        remove_files(data_dir)

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        with open(data_dir / LOG_NAME, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sandbox", "cabinet", "serve", *_serve_argv(args)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env,
                start_new_session=True, close_fds=True)  # own session: survives the caller's terminal
        write_atomic(data_dir / PID_NAME, "%d\n" % proc.pid)

        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                remove_files(data_dir)
                return _fail(data_dir, "the server exited with code %d" % code)
            url = read_text(data_dir / URL_NAME)
            if url and health_ok(url, timeout=0.5):
                print(url)
                return 0
            time.sleep(0.05)
        _terminate(proc.pid)
        remove_files(data_dir)
        return _fail(data_dir, "no answer on /health within %.0f s" % args.timeout)


def stop(args) -> int:
    data_dir: Path = args.data_dir
    pid = read_pid(data_dir)
    if pid and pid_alive(pid) and is_cabinet_server(pid):
        _terminate(pid)
    remove_files(data_dir)
    return 0


def status(args) -> int:
    url = running_url(args.data_dir)
    if url:
        print(url)
        return 0
    print("cabinet: not running for %s" % args.data_dir, file=sys.stderr)
    return NOT_RUNNING


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("start", "serve"):
        args.knob_overrides = _knob_overrides(args)
    if args.command == "serve":
        from sandbox.cabinet.server import main as serve_main  # uvicorn and FastAPI only when serving

        return serve_main(args)
    return {"start": start, "stop": stop, "status": status}[args.command](args)
