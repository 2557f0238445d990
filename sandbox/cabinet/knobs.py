"""Knobs: injected latency and faults, and the activation-code limits.

Knobs come from the config file, CLI flags and ``PUT /api/_emu/knobs`` (a partial object). ``Faults``
holds the live values and the random generator; the middleware asks it, per request, what to do.
"""

from __future__ import annotations

import random
import threading

DEFAULT_KNOBS = {
    "latency_ms": 0,            # added to every API request
    "latency_jitter_ms": 0,     # plus uniform(0, jitter)
    "p_429": 0.0,               # answer 429 with Retry-After
    "retry_after_s": 1,         # the Retry-After value (whole seconds, as HTTP wants)
    "p_5xx": 0.0,               # answer 500/502/503/504
    "p_drop_before": 0.0,       # close the connection before the request is processed
    "p_drop_after": 0.0,        # process (commit), then close before the response completes
    "fault_methods": None,      # null = every method; else e.g. ["POST", "PUT"]
    "seed": None,               # null = not reproducible
    "code_ttl_s": 900,          # activation code lifetime; null = never expires
    "max_code_attempts": 5,     # wrong codes per serial per minute before 429
}

PROBABILITIES = ("p_429", "p_5xx", "p_drop_before", "p_drop_after")
SERVER_ERRORS = (500, 502, 503, 504)

# What the middleware does with one request.
PASS, DROP_BEFORE, REPLY_429, REPLY_5XX = "pass", "drop-before", "429", "5xx"


class KnobError(ValueError):
    def __init__(self, knob: str, code: str, detail: str):
        super().__init__("%s: %s" % (knob, detail))
        self.knob = knob
        self.code = code


def _number(knob, value, minimum=0.0, maximum=None, allow_null=False, integer=False):
    if value is None and allow_null:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KnobError(knob, "knob-invalid", "must be a number")
    if integer and value != int(value):
        raise KnobError(knob, "knob-invalid", "must be a whole number")
    if value < minimum or (maximum is not None and value > maximum):
        raise KnobError(knob, "knob-invalid", "must be between %s and %s" % (minimum, maximum or "inf"))
    return int(value) if integer else value


def _check(knob, value):
    if knob in PROBABILITIES:
        return _number(knob, value, 0.0, 1.0)
    if knob in ("latency_ms", "latency_jitter_ms"):
        return _number(knob, value, 0.0, 600_000)
    if knob == "retry_after_s":
        return _number(knob, value, 0, 86_400, integer=True)
    if knob == "code_ttl_s":
        return _number(knob, value, 0.0, allow_null=True)
    if knob == "max_code_attempts":
        return _number(knob, value, 0, integer=True)
    if knob == "seed":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise KnobError(knob, "knob-invalid", "must be an integer, a string or null")
        return value
    if knob == "fault_methods":
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(m, str) and m for m in value):
            raise KnobError(knob, "knob-invalid", "must be null (all methods) or a list of method names")
        return sorted({m.upper() for m in value})
    raise KnobError(knob, "knob-unknown", "unknown knob")


def merge_knobs(current: dict, patch) -> dict:
    """``current`` updated with a partial ``patch``; raises KnobError, leaving ``current`` untouched."""
    if not isinstance(patch, dict):
        raise KnobError("knobs", "knob-invalid", "must be a JSON object")
    merged = dict(current)
    for knob, value in patch.items():
        merged[knob] = _check(knob, value)
    return merged


class Faults:
    """Live knob values plus the random generator that turns probabilities into decisions."""

    def __init__(self, knobs: dict):
        self._lock = threading.Lock()
        self.knobs = dict(knobs)
        self._rng = random.Random(self.knobs["seed"])

    def update(self, patch) -> dict:
        with self._lock:
            self.knobs = merge_knobs(self.knobs, patch)
            if "seed" in patch:
                # A new seed restarts the sequence, so a test can replay the same faults.
                self._rng = random.Random(self.knobs["seed"])
            return dict(self.knobs)

    def replace(self, knobs: dict) -> None:
        with self._lock:
            self.knobs = dict(knobs)
            self._rng = random.Random(self.knobs["seed"])

    def latency_s(self) -> float:
        knobs = self.knobs
        delay = knobs["latency_ms"]
        if knobs["latency_jitter_ms"]:
            with self._lock:
                delay += self._rng.uniform(0, knobs["latency_jitter_ms"])
        return delay / 1000.0

    def _applies(self, method: str) -> bool:
        methods = self.knobs["fault_methods"]
        return methods is None or method in methods

    def before(self, method: str) -> str:
        """One roll split into bands, so each ``p_*`` is exactly that outcome's probability."""
        knobs = self.knobs
        if not (knobs["p_drop_before"] or knobs["p_429"] or knobs["p_5xx"]) or not self._applies(method):
            return PASS
        with self._lock:
            roll = self._rng.random()
        edge = knobs["p_drop_before"]
        if roll < edge:
            return DROP_BEFORE
        edge += knobs["p_429"]
        if roll < edge:
            return REPLY_429
        edge += knobs["p_5xx"]
        if roll < edge:
            return REPLY_5XX
        return PASS

    def drop_after(self, method: str) -> bool:
        if not self.knobs["p_drop_after"] or not self._applies(method):
            return False
        with self._lock:
            return self._rng.random() < self.knobs["p_drop_after"]

    def server_error_status(self) -> int:
        with self._lock:
            return self._rng.choice(SERVER_ERRORS)
