"""SQLite storage: one connection, guarded by a lock, WAL mode.

A point is stored as the JSON text the API returns (``body``), so listing 10,000 points is a join of
stored strings, with no per-point parse or dump. Columns beside it carry what the server looks up by:
the owner account and the live activation code (``code``, unique, with its issue time for the TTL).

All SQL lives here; the endpoints compose these helpers inside ``Store.transaction()``.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    body TEXT NOT NULL,
    code TEXT UNIQUE,           -- the live posLinkToken, NULL when none
    code_issued_at REAL         -- time.time() of issue, for code_ttl_s
);
CREATE INDEX IF NOT EXISTS points_by_account ON points (account);
-- A point is held by at most one register (serial); a serial may hold several points.
CREATE TABLE IF NOT EXISTS bindings (
    point_id TEXT PRIMARY KEY,
    serial TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bindings_by_serial ON bindings (serial);
-- Device credentials: made at a serial's first activation, stable afterwards.
CREATE TABLE IF NOT EXISTS devices (
    serial TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- Redeemed codes, so a second use answers activation-code-used rather than -invalid.
CREATE TABLE IF NOT EXISTS spent_codes (
    code TEXT PRIMARY KEY,
    point_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    used_at TEXT NOT NULL
);
"""


class Tx:
    """Query helpers bound to the store's connection; use only inside ``Store.transaction()``."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    # points
    def list_bodies(self, account: str) -> list[str]:
        rows = self._conn.execute("SELECT body FROM points WHERE account = ? ORDER BY rowid", (account,))
        return [row[0] for row in rows]

    def point_row(self, point_id: str):
        """(account, body, code, code_issued_at) or None."""
        return self._conn.execute(
            "SELECT account, body, code, code_issued_at FROM points WHERE id = ?", (point_id,)).fetchone()

    def point_by_code(self, code: str):
        """(id, account, body, code_issued_at) of the point holding this live code, or None."""
        return self._conn.execute(
            "SELECT id, account, body, code_issued_at FROM points WHERE code = ?", (code,)).fetchone()

    def insert_point(self, point_id: str, account: str, body: str, code, issued_at) -> None:
        self._conn.execute("INSERT INTO points (id, account, body, code, code_issued_at) VALUES (?, ?, ?, ?, ?)",
                           (point_id, account, body, code, issued_at))

    def update_point(self, point_id: str, body: str, code, issued_at) -> None:
        self._conn.execute("UPDATE points SET body = ?, code = ?, code_issued_at = ? WHERE id = ?",
                           (body, code, issued_at, point_id))

    def set_body(self, point_id: str, body: str) -> None:
        self._conn.execute("UPDATE points SET body = ? WHERE id = ?", (body, point_id))

    def delete_point(self, point_id: str) -> None:
        self._conn.execute("DELETE FROM points WHERE id = ?", (point_id,))
        self._conn.execute("DELETE FROM bindings WHERE point_id = ?", (point_id,))

    # codes
    def spent_code(self, code: str):
        return self._conn.execute("SELECT point_id, serial, used_at FROM spent_codes WHERE code = ?",
                                  (code,)).fetchone()

    def mark_spent(self, code: str, point_id: str, serial: str, used_at: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO spent_codes (code, point_id, serial, used_at) VALUES (?, ?, ?, ?)",
                           (code, point_id, serial, used_at))

    # devices and bindings
    def device(self, serial: str):
        """(login, password) or None."""
        return self._conn.execute("SELECT login, password FROM devices WHERE serial = ?", (serial,)).fetchone()

    def device_by_login(self, login: str):
        """(serial, password) or None."""
        return self._conn.execute("SELECT serial, password FROM devices WHERE login = ?", (login,)).fetchone()

    def insert_device(self, serial: str, login: str, password: str, created_at: str) -> None:
        self._conn.execute("INSERT INTO devices (serial, login, password, created_at) VALUES (?, ?, ?, ?)",
                           (serial, login, password, created_at))

    def binding(self, point_id: str):
        """(serial, since) or None."""
        return self._conn.execute("SELECT serial, since FROM bindings WHERE point_id = ?", (point_id,)).fetchone()

    def set_binding(self, point_id: str, serial: str, since: str) -> None:
        # REPLACE on the point's key: binding it here is what takes it from its previous register.
        self._conn.execute("INSERT OR REPLACE INTO bindings (point_id, serial, since) VALUES (?, ?, ?)",
                           (point_id, serial, since))

    def delete_binding(self, point_id: str) -> None:
        self._conn.execute("DELETE FROM bindings WHERE point_id = ?", (point_id,))

    def bindings_of(self, serial: str) -> list[tuple[str, str, str]]:
        """[(point_id, since, point body)] of one serial, oldest first."""
        rows = self._conn.execute(
            "SELECT b.point_id, b.since, p.body FROM bindings b JOIN points p ON p.id = b.point_id "
            "WHERE b.serial = ? ORDER BY b.since, b.point_id", (serial,))
        return list(rows)

    def wipe(self) -> None:
        for table in ("points", "bindings", "devices", "spent_codes"):
            self._conn.execute("DELETE FROM %s" % table)


class Store:
    def __init__(self, path: Path):
        # check_same_thread=False + our own lock: the connection is shared by the event loop and any
        # worker thread; the lock serialises them (SQLite writes are serial anyway).
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: durable across a process kill, fsync only at checkpoints (fast commits).
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)
        self._conn.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)
        self._tx = Tx(self._conn)

    @contextmanager
    def transaction(self):
        """A write transaction: committed on success, rolled back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._tx
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def reading(self):
        """Reads without a transaction (each statement sees a consistent snapshot by itself)."""
        with self._lock:
            yield self._tx

    def close(self) -> None:
        with self._lock:
            self._conn.close()
