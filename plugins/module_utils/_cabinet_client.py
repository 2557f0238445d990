# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cabinet REST client: one pooled ``httpx.Client``, typed errors, safe retries, redacted messages.

Contract: ``docs/architecture.md``, section "Cabinet client" (decisions D3, D4 and D8).

* One ``httpx.Client`` per ``CabinetClient``; it may be shared by the threads of one task invocation.
* Only requests that are safe to repeat are retried (GET, PUT, DELETE by their method; the create of a point says so
  itself, its body carrying a client-chosen ``id``), on HTTP 429/500/502/503/504 and on transport errors, with jittered
  exponential backoff; ``Retry-After`` is honoured (capped); every retry is reported through ``warn``. A 429
  or 503 with ``Retry-After`` also pauses the client's other threads: no new attempt until it has passed.
* A ``write_guard`` (a callable returning None or the reason to stop) is asked before every write attempt, retries
  included: once it gives a reason, no new write is sent (``WritesStopped``), except a ``cleanup`` write that takes
  back what the run itself left half done (an unredeemed activation code). The action plugins pass a guard that
  stops when the controller process (``ansible-playbook``) is gone (``plugin_utils/_controller.py``).
* Answers are read by ``_cabinet_answers.py`` (the error an answer is, the JSON it carries, D22).
* No message built here (errors, warnings) ever contains the password, the Authorization header, a value
  registered with ``add_secret`` or a request body. ``posLinkToken`` values (activation codes) that pass
  through the client are registered as secrets automatically.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import json
import math
import os
import random as _random_module
import ssl
import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_answers import (
    error_details,
    parsed,
    point_problem,
    reason,
    status_error,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import (
    CabinetArgumentError,
    CabinetError,
    CabinetProtocolError,
    CabinetUnavailable,
    WritesStopped,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import json_type
from ansible_collections.modulkassa.pos.plugins.module_utils._redaction import Redactor
from ansible_collections.modulkassa.pos.plugins.module_utils._version import USER_AGENT

try:
    import httpx
    HAS_HTTPX = True
except ImportError:
    HAS_HTTPX = False


DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
BACKOFF_BASE = 0.5
BACKOFF_FACTOR = 2.0
DEFAULT_BACKOFF_MAX = 10.0
DEFAULT_RETRY_AFTER_MAX = 60.0

# Sized for a ThreadPoolExecutor of up to ~16 writer threads sharing one client (D3), with head room so
# that a thread never waits for a connection slot.
MAX_CONNECTIONS = 32
MAX_KEEPALIVE_CONNECTIONS = 16

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# Statuses whose Retry-After pauses every thread of the client (a rate limit, an overloaded server).
PAUSE_STATUSES = frozenset((429, 503))
RETRY_SAFE_METHODS = frozenset(("GET", "PUT", "DELETE"))
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))

_POINTS_PATH = "/api/v1/retail-points"
_POINT_PATH = "/api/v1/retail-point/"


# Verifying SSL contexts, one per CA source and process. Building one parses a CA bundle (about 20 ms of CPU),
# and each task builds a client: a play over 100 registers would parse the bundle 100 times.
# ``warm_default_ssl_context`` builds the default one in the controller process before Ansible forks its
# workers, so every worker inherits it. An SSLContext is safe to share between threads.
_SSL_CONTEXTS = {}
_SSL_CONTEXTS_LOCK = threading.Lock()


def _ssl_context(ca_path=None):
    """The verifying context for ``ca_path`` (a file or a directory), or httpx's default trust store."""
    key = ca_path or ""
    with _SSL_CONTEXTS_LOCK:
        context = _SSL_CONTEXTS.get(key)
        if context is None:
            if not ca_path:
                context = httpx.create_ssl_context(verify=True)  # SSL_CERT_FILE / SSL_CERT_DIR, else certifi
            elif os.path.isdir(ca_path):
                context = ssl.create_default_context(capath=ca_path)
            else:
                context = ssl.create_default_context(cafile=ca_path)
            _SSL_CONTEXTS[key] = context
        return context


def warm_default_ssl_context():
    """Build the default verifying context now (call it in the process that forks the workers).

    Building a transport also imports what httpx loads only then (httpcore, h11: about 20 ms per process).
    """
    if not HAS_HTTPX:
        return
    try:
        httpx.HTTPTransport(verify=_ssl_context()).close()
    except (ssl.SSLError, OSError):
        pass  # the client will raise the error where a task can report it


def _has_client_id(body):
    if not isinstance(body, dict):
        return False
    value = body.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    return str(value).strip() != ""


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def _cert_verification_failure(exc):
    """The ssl.SSLCertVerificationError behind a transport error, if that is what it is."""
    seen = set()
    current = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        current = current.__cause__ or current.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return exc
    return None


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # RFC 9110 HTTP-dates are GMT; parsedate_to_datetime gives a naive datetime for "-0000".
        when = when.replace(tzinfo=datetime.timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class CabinetClient(object):
    """A client of the cabinet's ``/api/v1`` API; see the module docstring and ``docs/architecture.md``."""

    def __init__(self, url, login, password, validate_certs=True, ca_path=None, timeout=DEFAULT_TIMEOUT,
                 retries=DEFAULT_RETRIES, warn=None, transport=None, backoff_max=DEFAULT_BACKOFF_MAX,
                 retry_after_max=DEFAULT_RETRY_AFTER_MAX, sleep=time.sleep, random=_random_module.random,
                 write_guard=None):
        self._redactor = Redactor()
        # A Retry-After from the cabinet pauses every thread of this client, not only the one that got it.
        self._pause_lock = threading.Lock()
        self._resume_at = 0.0
        self._paused_by = None
        self._client = None

        if password:
            self.add_secret(password)
        if not HAS_HTTPX:
            raise CabinetError(missing_required_lib("httpx"))

        self._base_url = self._check_url(url)
        self._timeout = self._check_number("timeout", timeout, minimum=0.0, exclusive=True)
        self._retries = self._check_int("retries", retries)
        self._backoff_max = self._check_number("backoff_max", backoff_max, minimum=0.0)
        self._retry_after_max = self._check_number("retry_after_max", retry_after_max, minimum=0.0)
        self._warn = warn
        self._write_guard = write_guard
        self._sleep = sleep
        self._random = getattr(random, "random", random)  # a random.Random instance or a plain callable

        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if login is not None or password is not None:
            token = base64.b64encode(("%s:%s" % (login or "", password or "")).encode("utf-8")).decode("ascii")
            self.add_secret(token)
            headers["Authorization"] = "Basic " + token

        self._client = httpx.Client(
            headers=headers,
            verify=self._verify(validate_certs, ca_path),
            timeout=httpx.Timeout(self._timeout),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS),
            follow_redirects=False,
            transport=transport,
        )

    # -- construction helpers ------------------------------------------------------------------------

    def _check_url(self, url):
        if not isinstance(url, str) or not url.strip():
            raise CabinetArgumentError("cabinet_url is required: the cabinet's base URL, for example https://my.modulkassa.ru")
        url = url.strip()
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
            parts.port  # pylint: disable=pointless-statement  # raises ValueError on a bad port
        except ValueError as exc:
            raise CabinetArgumentError(self.redact("cabinet_url %s is not a valid URL: %s" % (url, exc))) from None
        if "@" in parts.netloc:
            userinfo = parts.netloc.rsplit("@", 1)[0]
            self.add_secret(userinfo)
            if parts.password:
                self.add_secret(parts.password)
            if ":" in userinfo:
                self.add_secret(userinfo.split(":", 1)[1])
            shown = urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, "", ""))
            raise CabinetArgumentError(self.redact(
                "cabinet_url must not contain a user name or password (user:password@); "
                "give them as cabinet_login and cabinet_password instead: %s" % shown))
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise CabinetArgumentError(self.redact(
                "cabinet_url %s: the scheme must be http or https, not %r" % (url, parts.scheme or "")))
        if not hostname:
            raise CabinetArgumentError(self.redact("cabinet_url %s has no host name" % url))
        if parts.query or parts.fragment:
            raise CabinetArgumentError(self.redact("cabinet_url %s must not have a query (?...) or a fragment (#...)" % url))
        base = urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        try:
            httpx.URL(base)
        except (httpx.InvalidURL, ValueError) as exc:
            raise CabinetArgumentError(self.redact("cabinet_url %s is not a valid URL: %s" % (url, exc))) from None
        return base

    @staticmethod
    def _check_number(name, value, minimum, exclusive=False):
        if json_type(value) not in ("integer", "number") or not math.isfinite(value) or value < minimum or (exclusive and value == minimum):
            raise CabinetArgumentError("%s must be a number %s %s, got %r" % (name, ">" if exclusive else ">=", minimum, value))
        return float(value)

    @staticmethod
    def _check_int(name, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CabinetArgumentError("%s must be an integer >= 0, got %r" % (name, value))
        return value

    def _verify(self, validate_certs, ca_path):
        if not validate_certs:
            return False
        if ca_path:
            ca_path = os.path.expanduser(str(ca_path))
            if not os.path.exists(ca_path):
                raise CabinetArgumentError(self.redact("ca_path %s does not exist" % ca_path))
        try:
            return _ssl_context(ca_path or None)
        except (ssl.SSLError, OSError) as exc:
            if not ca_path:
                raise CabinetArgumentError(self.redact("could not load the default CA certificates: %s" % exc)) from None
            raise CabinetArgumentError(self.redact("ca_path %s: could not load CA certificates: %s" % (ca_path, exc))) from None

    # -- secrets ----------------------------------------------------------------------------------------

    def add_secret(self, value):
        """Redact ``value`` (and its URL- and JSON-escaped forms) from every message from now on."""
        self._redactor.add(value)

    def redact(self, text):
        """``text`` without any known secret, Authorization header value or URL userinfo."""
        return self._redactor.redact(text)

    # -- lifetime ---------------------------------------------------------------------------------------

    @property
    def base_url(self):
        return self._base_url

    def close(self):
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self.close()

    # -- requests ---------------------------------------------------------------------------------------

    def _check_write_guard(self, method, path, cleanup):
        """Refuse a new write once the guard gives a reason to stop (asked before every attempt, retries included)."""
        if self._write_guard is None or cleanup or method not in WRITE_METHODS:
            return
        reason = self._write_guard()
        if reason:
            raise WritesStopped(self.redact("%s %s not sent: %s" % (method, path, reason)), method=method, path=path)

    def _backoff(self, retry_number, retry_after):
        cap = min(self._backoff_max, BACKOFF_BASE * (BACKOFF_FACTOR ** (retry_number - 1)))
        delay = self._random() * cap
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._retry_after_max))
        return delay

    def _retry(self, method, path, attempt, cause, retry_after_header=None):
        retry_after = parse_retry_after(retry_after_header)
        delay = self._backoff(attempt, retry_after)
        if self._warn is not None:
            note = " (Retry-After: %s)" % retry_after_header.strip() if retry_after is not None else ""
            self._warn(self.redact("cabinet: %s %s got %s; retry %d of %d in %.1f s%s"
                                   % (method, path, cause, attempt, self._retries, delay, note)))
        self._sleep(delay)

    def _pause_all(self, status, retry_after_header):
        """A 429 (or 503) with Retry-After speaks for the whole account: no thread of this client sends a new
        attempt before it has passed (capped like the retry's own wait), so N writer threads back off together
        instead of each finding the limit on its own."""
        retry_after = parse_retry_after(retry_after_header) if status in PAUSE_STATUSES else None
        if not retry_after:
            return
        resume_at = time.monotonic() + min(retry_after, self._retry_after_max)
        with self._pause_lock:
            if resume_at > self._resume_at:
                self._resume_at, self._paused_by = resume_at, threading.get_ident()

    def _hold_back(self):
        """Wait out a pause another thread's answer asked for (the thread that got it waits in its own retry)."""
        with self._pause_lock:
            resume_at, paused_by = self._resume_at, self._paused_by
        if paused_by is None or paused_by == threading.get_ident():
            return
        delay = resume_at - time.monotonic()
        if delay > 0:
            self._sleep(delay)

    def _call(self, method, path, body=None, expect=None, retry_safe=None, cleanup=False):
        """One request with the retries it allows; the answer as JSON of type ``expect`` (None: no answer wanted).

        ``retry_safe``: None lets the method decide (GET, PUT, DELETE are safe to repeat); a POST is retried only when
        the caller says it is safe (a create carrying its client-chosen id)."""
        if self._client is None:
            raise CabinetError("%s %s: the cabinet client is closed" % (method, path), method=method, path=path)
        if retry_safe is None:
            retry_safe = method in RETRY_SAFE_METHODS
        headers = {}
        content = None
        if body is not None:
            self._redactor.learn(body)
            try:
                content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise CabinetArgumentError(self.redact("%s %s: the request body is not serialisable as JSON: %s"
                                                       % (method, path, exc)), method=method, path=path) from None
            headers["Content-Type"] = "application/json"
        url = self._base_url + path
        max_attempts = 1 + (self._retries if retry_safe else 0)

        attempt = 0
        while True:
            attempt += 1
            self._hold_back()
            self._check_write_guard(method, path, cleanup)
            try:
                response = self._client.request(method, url, content=content, headers=headers)
            except httpx.TransportError as exc:
                cause = self._describe_transport_error(exc)
                cert_error = _cert_verification_failure(exc)
                if cert_error is None and not isinstance(exc, httpx.UnsupportedProtocol) and attempt < max_attempts:
                    self._retry(method, path, attempt, cause)
                    continue
                if cert_error is not None:
                    cause += "; set ca_path to the cabinet's CA bundle (or validate_certs: false for a test cabinet)"
                never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol))
                raise self._unavailable(method, path, attempt, cause, retry_safe, maybe_applied=not never_sent) from None
            except httpx.HTTPError as exc:  # DecodingError and friends: an answer came but could not be read
                raise CabinetProtocolError(self.redact("%s %s: could not read the answer: %s"
                                                       % (method, path, self._describe_transport_error(exc))),
                                           method=method, path=path) from None

            status = response.status_code
            if status in RETRY_STATUSES:
                self._pause_all(status, response.headers.get("Retry-After"))
                cause = "HTTP %d %s" % (status, reason(response))
                if attempt < max_attempts:
                    self._retry(method, path, attempt, cause, response.headers.get("Retry-After"))
                    continue
                code = error_details(self._redactor, response)[0]
                if code:
                    cause += " (%s)" % code
                raise self._unavailable(method, path, attempt, cause, retry_safe, status=status, code=code,
                                        maybe_applied=status in (500, 502, 504))
            if status >= 300 or status < 200:
                raise status_error(self._redactor, method, path, response)
            if expect is None:
                return None
            return parsed(self._redactor, method, path, response, expect)

    def _describe_transport_error(self, exc):
        text = str(exc).strip().rstrip(".")
        name = type(exc).__name__
        cause = "%s: %s" % (name, text) if text else name
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.PoolTimeout):
            cause += " (timeout %g s)" % self._timeout
        return cause

    def _unavailable(self, method, path, attempts, cause, retry_safe, status=None, code=None, maybe_applied=False):
        message = "%s %s failed after %s: %s" % (method, path, _plural(attempts, "attempt"), cause)
        if not retry_safe and self._retries:
            message += "; not retried: a %s request is not safe to repeat" % method
            if maybe_applied:
                message += " (it may have been applied: check the cabinet)"
        return CabinetUnavailable(self.redact(message), status=status, code=code, method=method, path=path, attempts=attempts)

    # -- retail points ----------------------------------------------------------------------------------

    @staticmethod
    def _point_path(point_id):
        if isinstance(point_id, bool) or not isinstance(point_id, (str, int)) or str(point_id).strip() == "":
            raise CabinetArgumentError("a retail point id must be a non-empty string, got %r" % (point_id,))
        return _POINT_PATH + quote(str(point_id), safe="")

    @staticmethod
    def _checked_point(method, path, item, where="the answer"):
        """``item`` if it is shaped like a retail point; a wrong shape must fail, never be planned against."""
        problem = point_problem(item)
        if problem:
            raise CabinetProtocolError("%s %s: %s is not a retail point (%s)" % (method, path, where, problem),
                                       method=method, path=path)
        return item

    def list_points(self):
        """All the account's retail points (``GET /api/v1/retail-points``, a JSON array of point objects)."""
        points = self._call("GET", _POINTS_PATH, expect=list)
        for index, item in enumerate(points):
            self._checked_point("GET", _POINTS_PATH, item, "item %d of the answer" % index)
        return points

    def get_point(self, point_id):
        """One point; CabinetNotFound if absent (or another account's)."""
        path = self._point_path(point_id)
        return self._checked_point("GET", path, self._call("GET", path, expect=dict))

    def create_point(self, body):
        """Create a point; ``body["id"]`` (client-chosen) is required, so the POST is retried safely (D4, D5)."""
        if not _has_client_id(body):
            raise CabinetArgumentError("create_point needs a body with a client-chosen 'id' (docs/architecture.md D4, D5)")
        return self._checked_point("POST", _POINTS_PATH, self._call("POST", _POINTS_PATH, body=body, retry_safe=True, expect=dict))

    def update_point(self, point_id, partial, cleanup=False):
        """Partial update (deep-merged into ``settings`` by the cabinet); returns the point.

        ``cleanup=True``: the write takes back what this run left half done (it withdraws an unredeemed code), so
        it is sent even when the write guard stops new writes."""
        path = self._point_path(point_id)
        if not isinstance(partial, dict):
            raise CabinetArgumentError("update_point needs a dict of the fields to change, got %s" % type(partial).__name__)
        return self._checked_point("PUT", path, self._call("PUT", path, body=partial, expect=dict, cleanup=cleanup))

    def delete_point(self, point_id):
        """Delete a point (204 or 200); CabinetNotFound if absent, CabinetConflict if the cabinet forbids it."""
        self._call("DELETE", self._point_path(point_id))


# The task options (the modulkassa.pos.cabinet doc fragment) a client is built from, by their option names.
CLIENT_OPTIONS = ("cabinet_url", "cabinet_login", "cabinet_password", "validate_certs", "ca_path", "timeout", "retries")


def client_from_options(options, warn=None, write_guard=None):
    """The client of a task, an inventory source or an event source: ``options`` maps ``CLIENT_OPTIONS`` to values.

    The one place options become a client: every plugin gets the same checks (URL, CA path, numbers) and the same
    defaults for an option it leaves unset (None)."""
    def given(name, default):
        value = options.get(name)
        return default if value is None else value

    return CabinetClient(options.get("cabinet_url"), options.get("cabinet_login"), options.get("cabinet_password"),
                         validate_certs=given("validate_certs", True), ca_path=options.get("ca_path"),
                         timeout=given("timeout", DEFAULT_TIMEOUT), retries=given("retries", DEFAULT_RETRIES),
                         warn=warn, write_guard=write_guard)
