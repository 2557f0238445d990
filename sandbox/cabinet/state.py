"""Everything the endpoints and the middleware share, built once per server."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from sandbox.cabinet.counters import Counters
from sandbox.cabinet.db import Store
from sandbox.cabinet.knobs import Faults

# Scope keys the middleware sets for the endpoints (who is calling).
ACCOUNT_KEY = "sandbox.account"
SERIAL_KEY = "sandbox.serial"

ATTEMPT_WINDOW_S = 60.0


class AttemptLimiter:
    """Wrong activation codes per serial in a sliding window (in memory: a restart forgives)."""

    def __init__(self, window_s: float = ATTEMPT_WINDOW_S):
        self._window_s = window_s
        self._lock = threading.Lock()
        self._wrong: dict[str, deque] = {}

    def retry_after(self, serial: str, limit: int, now: float | None = None) -> int | None:
        """Seconds until this serial may try again, or None if it may try now. limit 0 = no limit."""
        if not limit:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._wrong.get(serial)
            if not times:
                return None
            while times and now - times[0] >= self._window_s:
                times.popleft()
            if len(times) < limit:
                return None
            # Free again once enough of the window's oldest failures have aged out.
            return max(1, math.ceil(self._window_s - (now - times[-limit])))

    def record_wrong(self, serial: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._wrong.setdefault(serial, deque()).append(now)

    def reset(self) -> None:
        with self._lock:
            self._wrong.clear()


@dataclass
class EmulatorState:
    store: Store
    accounts: dict[str, str]            # login (lower case) -> password
    configured_knobs: dict              # what /api/_emu/reset goes back to
    faults: Faults
    counters: Counters = field(default_factory=Counters)
    attempts: AttemptLimiter = field(default_factory=AttemptLimiter)
