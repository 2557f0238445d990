"""Per-account request counters, so tests and benchmarks can count the API calls a run made.

Keys are ``"METHOD /route/template"`` (``"PUT /api/v1/retail-point/{id}"``), grouped by login;
``<anonymous>`` collects requests that failed authentication, ``<device>`` the device API.
"""

from __future__ import annotations

import threading

ANONYMOUS = "<anonymous>"
DEVICE = "<device>"


class Counters:
    def __init__(self):
        # A lock, not the GIL: "+= 1" on a dict item is a read-modify-write and the server may be
        # run with threads (sync endpoints, a threaded test client).
        self._lock = threading.Lock()
        self._by_login: dict[str, dict[str, int]] = {}

    def add(self, login: str, key: str) -> None:
        with self._lock:
            per_login = self._by_login.get(login)
            if per_login is None:
                per_login = self._by_login[login] = {}
            per_login[key] = per_login.get(key, 0) + 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {login: dict(keys) for login, keys in self._by_login.items()}

    def reset(self) -> None:
        with self._lock:
            self._by_login = {}
