"""``cabinet serve``: the foreground server (what ``cabinet start`` runs in the background).

We bind the socket ourselves, so ``--port 0`` gives a free port with no race: the real port is known
before uvicorn starts, and the URL file is written from it.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import uvicorn

from sandbox.cabinet.app import create_app
from sandbox.cabinet.config import ConfigError, prepare_config
from sandbox.cabinet.files import PID_NAME, URL_NAME, remove_if_ours, write_atomic
from sandbox.cabinet.knobs import KnobError
from sandbox.cabinet.transport import DroppableH11Protocol

HOST = "127.0.0.1"  # loopback only: /api/_emu/ has no auth
KEEP_ALIVE_S = 75   # longer than client pools keep idle connections, so the server never closes one mid-reuse


def bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the proto says
    # TCP. Without it Nagle holds the body write behind the header write: +40 ms per keep-alive request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    return sock


def serve(data_dir: Path, port: int = 0, config_file: Path | None = None, tls_cert: Path | None = None,
          tls_key: Path | None = None, knob_overrides: dict | None = None) -> int:
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    config = prepare_config(data_dir, config_file)
    app = create_app(data_dir, config, knob_overrides)
    sock = bind(port)
    scheme = "https" if tls_cert else "http"
    url = "%s://%s:%d" % (scheme, HOST, sock.getsockname()[1])

    uv_config = uvicorn.Config(
        app, http=DroppableH11Protocol, ws="none", lifespan="on",
        log_level="warning", access_log=False,  # an access line per request would cost more than the request
        timeout_keep_alive=KEEP_ALIVE_S, timeout_graceful_shutdown=3,
        ssl_certfile=str(tls_cert) if tls_cert else None, ssl_keyfile=str(tls_key) if tls_key else None)
    server = uvicorn.Server(uv_config)

    pid_file, url_file = data_dir / PID_NAME, data_dir / URL_NAME
    write_atomic(pid_file, "%d\n" % os.getpid())
    write_atomic(url_file, url + "\n")
    print(url, flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        remove_if_ours(pid_file, url_file)
    return 0 if server.started else 1


def main(args) -> int:
    try:
        return serve(args.data_dir, args.port, args.config, args.tls_cert, args.tls_key, args.knob_overrides)
    except (ConfigError, KnobError) as exc:
        print("cabinet serve: bad configuration: %s" % exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print("cabinet serve: %s" % exc, file=sys.stderr)
        return 1
