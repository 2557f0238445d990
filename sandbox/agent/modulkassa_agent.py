#!/usr/bin/env python3
"""ModulKassa register agent: the sandbox stand-in for the POS app's activation screen.

One file, standard library only, Python >= 3.9: a deployment copies it onto a register and runs it with the
register's own interpreter. The contract (commands, stdin, exit codes, JSON, files) is documented in
docs/register-agent.md; the device API it calls (/api/device/v1/...) is the project's own design, because
the real device protocol is private.

    modulkassa_agent.py [--home DIR] status
    modulkassa_agent.py [--home DIR] activate                 # the activation code is read from stdin
    modulkassa_agent.py [--home DIR] deactivate --retail-point ID

Every command prints one JSON object on stdout. Errors are {"error": code, "message": text} with a
distinct exit code (see EXIT_CODES). The activation code and the device credentials never appear in any
output: every message goes through scrub() first.
"""

import base64
import errno
import fcntl
import http.client
import json
import os
import random
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

AGENT_VERSION = "1.0.0"
HOME_ENV = "MODULKASSA_AGENT_HOME"
CONFIG_NAME = "agent.json"
STATE_NAME = "state.json"
CREDENTIALS_NAME = "credentials.json"
LOCK_NAME = "agent.lock"

DEFAULT_TIMEOUT = 10.0          # seconds, per HTTP request (agent.json "timeout" overrides)
MAX_ATTEMPTS = 3                # per HTTP request, only where a retry is safe
RETRY_AFTER_CAP = 5.0           # seconds; a longer Retry-After is not worth a register's wait
MAX_CODE_LENGTH = 256

EXIT_CODES = {
    "usage": 2,
    "activation-code-invalid": 3,
    "activation-code-expired": 4,
    "activation-code-used": 5,
    "activation-code-attempts-exceeded": 6,
    "cabinet-unreachable": 7,
    "not-bound": 8,
}

# Answers of POST /api/device/v1/activate that mean "this code was refused" (status -> our error code).
ACTIVATION_REFUSALS = {
    404: "activation-code-invalid",
    410: "activation-code-expired",
    409: "activation-code-used",
}

USAGE = """usage: modulkassa_agent.py [--home DIR] COMMAND

commands:
  status                          the register's serial, model, app version and bound retail points
  activate                        redeem the activation code read from STDIN (never give it as an argument)
  deactivate --retail-point ID    release one retail point from this register

The home directory comes from --home or $%s; it holds agent.json (serial, model, appVersion,
cabinetUrl, optional caPath and timeout), state.json and credentials.json.
exit codes: 0 ok, 2 usage, 3 code invalid, 4 code expired, 5 code used, 6 attempts exceeded,
7 cabinet unreachable, 8 not bound, 1 anything else""" % HOME_ENV

_SECRETS = set()


def add_secret(value):
    if isinstance(value, str) and value:
        _SECRETS.add(value)


def scrub(text):
    """``text`` with every known secret replaced, longest first (so a secret inside another goes too)."""
    text = str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


class AgentError(Exception):
    def __init__(self, code, message, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def exit_code(self):
        return EXIT_CODES.get(self.code, 1)


def utc_now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------------- files
def atomic_write_json(path, value):
    """Write ``value`` to ``path`` so a reader sees the old or the new file, never a torn one.

    The temporary file is created with mode 0600 from the start (no window where it is readable by
    others), fsynced, renamed over the target, and the directory is fsynced so the rename survives a crash.
    """
    directory = os.path.dirname(path) or "."
    data = (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def read_json(path, default=None):
    """The parsed file, ``default`` when it does not exist; AgentError when it is unreadable."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return default
    except OSError as exc:
        raise AgentError("home-unreadable", "cannot read %s: %s" % (path, exc.strerror))
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        raise AgentError("home-corrupt", "%s is not valid JSON" % path)


class Home:
    """The register's home directory: configuration, local state, device credentials and the lock."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.config_path = os.path.join(self.path, CONFIG_NAME)
        self.state_path = os.path.join(self.path, STATE_NAME)
        self.credentials_path = os.path.join(self.path, CREDENTIALS_NAME)
        self.lock_path = os.path.join(self.path, LOCK_NAME)
        self._lock_fd = None

    def load_config(self):
        config = read_json(self.config_path)
        if config is None:
            raise AgentError("not-configured", "%s does not exist" % self.config_path)
        if not isinstance(config, dict):
            raise AgentError("not-configured", "%s must hold a JSON object" % self.config_path)
        missing = [key for key in ("serial", "model", "appVersion", "cabinetUrl")
                   if not isinstance(config.get(key), str) or not config.get(key)]
        if missing:
            raise AgentError("not-configured", "%s lacks %s" % (self.config_path, ", ".join(missing)))
        timeout = config.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise AgentError("not-configured", "%s: timeout must be a positive number" % self.config_path)
        ca_path = config.get("caPath")
        if ca_path is not None and (not isinstance(ca_path, str) or not ca_path):
            raise AgentError("not-configured", "%s: caPath must be a path" % self.config_path)
        return config

    # The lock serialises whole commands: a status that reconciles must not overwrite a binding that a
    # concurrent activate has just stored. flock is released by the kernel if the process dies.
    def lock(self, timeout):
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise AgentError("busy", "another agent command holds %s" % self.lock_path)
                time.sleep(0.05)
        self._lock_fd = fd

    def unlock(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def load_bindings(self):
        try:
            state = read_json(self.state_path, {"bindings": []})
        except AgentError as exc:
            if exc.code != "home-corrupt":
                raise
            # A torn or hand-edited state file must not brick the register: the cabinet is the truth and
            # the next successful reconciliation rewrites it.
            sys.stderr.write("warning: %s is not valid JSON; treating it as empty\n" % self.state_path)
            return []
        bindings = state.get("bindings") if isinstance(state, dict) else None
        if not isinstance(bindings, list):
            return []
        return [normalise_binding(b) for b in bindings if isinstance(b, dict) and b.get("retailPointId")]

    def save_bindings(self, bindings):
        atomic_write_json(self.state_path, {"bindings": sort_bindings(bindings)})

    def load_credentials(self):
        try:
            creds = read_json(self.credentials_path)
        except AgentError:
            return None
        if not isinstance(creds, dict):
            return None
        login, password = creds.get("login"), creds.get("password")
        if not isinstance(login, str) or not isinstance(password, str) or not login or not password:
            return None
        add_secret(login)
        add_secret(password)
        return {"login": login, "password": password}

    def save_credentials(self, credentials):
        atomic_write_json(self.credentials_path, {"login": credentials["login"],
                                                  "password": credentials["password"]})


def normalise_binding(raw):
    return {"retailPointId": str(raw.get("retailPointId")),
            "name": raw.get("name") if isinstance(raw.get("name"), str) else None,
            "since": raw.get("since") if isinstance(raw.get("since"), str) else None}


def sort_bindings(bindings):
    return sorted(bindings, key=lambda b: (b.get("since") or "", b["retailPointId"]))


# ---------------------------------------------------------------------------------------------------- HTTP
class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers
        self.attempts = 1

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def error_code(self):
        """The machine code of a cabinet error body (``message``), or None."""
        body = self.json()
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"]
        return None


class Unreachable(Exception):
    """No HTTP answer: refused, reset, timed out, TLS failure. ``sent`` says whether the request may
    have reached the server (so a non-idempotent request may have taken effect)."""

    def __init__(self, reason, sent):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


class Cabinet:
    def __init__(self, config):
        self.base = config["cabinetUrl"].rstrip("/")
        self.timeout = float(config.get("timeout", DEFAULT_TIMEOUT))
        self.user_agent = "modulkassa-agent/%s (%s)" % (AGENT_VERSION, config["serial"])
        self.context = None
        if self.base.lower().startswith("https://"):
            ca_path = config.get("caPath")
            try:
                if ca_path and os.path.isdir(ca_path):
                    self.context = ssl.create_default_context(capath=ca_path)
                else:
                    self.context = ssl.create_default_context(cafile=ca_path or None)
            except (OSError, ssl.SSLError) as exc:
                raise AgentError("not-configured", "cannot load caPath %s: %s" % (ca_path, exc))

    def _once(self, method, path, body=None, auth=None):
        data = None
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if auth is not None:
            token = base64.b64encode(("%s:%s" % (auth["login"], auth["password"])).encode("utf-8"))
            headers["Authorization"] = "Basic " + token.decode("ascii")
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as answer:
                return Response(answer.status, answer.read(), answer.headers)
        except urllib.error.HTTPError as exc:
            try:
                payload = exc.read()
            except Exception:  # a truncated error body is still an answer
                payload = b""
            return Response(exc.code, payload, exc.headers)
        except urllib.error.URLError as exc:
            cause = exc.reason
            sent = not isinstance(cause, (ConnectionRefusedError, socket.gaierror, ssl.SSLError))
            raise Unreachable(describe(cause), sent)
        except (OSError, ValueError, EOFError, http.client.HTTPException) as exc:
            # RemoteDisconnected, IncompleteRead (the answer was cut off), ConnectionResetError, timeouts
            raise Unreachable(describe(exc), True)

    def request(self, method, path, body=None, auth=None, retry=None):
        """One request with bounded retries.

        ``retry(response_or_exc)`` decides whether a failure may be repeated; the default repeats
        network errors, 429 and 5xx, which is right for GET and for DELETE (see deactivate).
        Returns the last Response; raises the last Unreachable.
        """
        if retry is None:
            retry = default_retry
        attempt = 0
        while True:
            attempt += 1
            try:
                outcome = self._once(method, path, body, auth)
            except Unreachable as exc:
                outcome = exc
            if attempt >= MAX_ATTEMPTS or not retry(outcome):
                outcome.attempts = attempt
                if isinstance(outcome, Unreachable):
                    raise outcome
                return outcome
            time.sleep(backoff(attempt, outcome))


def default_retry(outcome):
    if isinstance(outcome, Unreachable):
        return True
    return outcome.status == 429 or outcome.status >= 500


def backoff(attempt, outcome):
    delay = 0.2 * (2 ** (attempt - 1)) * (0.5 + random.random())
    headers = getattr(outcome, "headers", None)
    if headers is not None and headers.get("Retry-After"):
        try:
            delay = max(delay, float(headers.get("Retry-After")))
        except ValueError:
            pass
    return min(delay, RETRY_AFTER_CAP)


def describe(exc):
    """A short, secret-free reason: the exception class and its text (no request data is in either)."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    text = str(exc)
    name = exc.__class__.__name__
    return "%s: %s" % (name, text) if text and text != name else name


def attempts_note(outcome):
    attempts = getattr(outcome, "attempts", 1)
    return " (after %d attempts)" % attempts if attempts > 1 else ""


def unreachable(method, path, exc):
    return AgentError("cabinet-unreachable", "%s %s: %s%s" % (method, path, exc.reason, attempts_note(exc)))


def unexpected(method, path, response):
    code = response.error_code()
    text = "%s %s: HTTP %d%s%s" % (method, path, response.status, " (%s)" % code if code else "",
                                   attempts_note(response))
    if response.status >= 500 or response.status == 429:
        return AgentError("cabinet-unreachable", text)
    return AgentError("cabinet-error", text)


BINDINGS_PATH = "/api/device/v1/bindings"
ACTIVATE_PATH = "/api/device/v1/activate"


def fetch_bindings(cabinet, credentials, retry=None):
    """The cabinet's bindings for this register: a list, or raises AgentError / Unreachable."""
    response = cabinet.request("GET", BINDINGS_PATH, auth=credentials, retry=retry)
    if response.status == 200:
        body = response.json()
        if isinstance(body, list) and all(isinstance(b, dict) and b.get("retailPointId") for b in body):
            return [normalise_binding(b) for b in body]
        raise AgentError("cabinet-error", "GET %s: the answer is not a list of bindings" % BINDINGS_PATH)
    if response.status in (401, 403):
        raise AgentError("credentials-rejected", "GET %s: the cabinet rejected this register's device "
                                                 "credentials (HTTP %d)" % (BINDINGS_PATH, response.status))
    raise unexpected("GET", BINDINGS_PATH, response)


# ------------------------------------------------------------------------------------------------ commands
def status_document(config, bindings, synced, sync_error=None):
    doc = {"serial": config["serial"], "model": config["model"], "appVersion": config["appVersion"],
           "bindings": sort_bindings(bindings), "synced": synced}
    if sync_error:
        doc["syncError"] = sync_error
    return doc


def reconcile(home, config, cabinet, credentials):
    """Bring local state in line with the cabinet (the truth). Returns the status document.

    Without credentials the register has never been activated: there is nothing to ask, the local
    state is the whole story. If the cabinet cannot be asked, the local state is reported with
    ``synced: false`` and the reason in ``syncError``.
    """
    local = home.load_bindings()
    if credentials is None:
        if local:
            return status_document(config, local, False, {
                "error": "no-credentials", "message": "bindings are stored but device credentials are not"})
        return status_document(config, local, True)
    try:
        remote = fetch_bindings(cabinet, credentials)
    except Unreachable as exc:
        err = unreachable("GET", BINDINGS_PATH, exc)
        return status_document(config, local, False, {"error": err.code, "message": err.message})
    except AgentError as exc:
        return status_document(config, local, False, {"error": exc.code, "message": exc.message})
    if sort_bindings(remote) != sort_bindings(local):
        home.save_bindings(remote)
    return status_document(config, remote, True)


def cmd_status(home, config, cabinet):
    return reconcile(home, config, cabinet, home.load_credentials())


def read_code(stream):
    if stream is None:
        raise AgentError("usage", "activate reads the activation code from stdin, and stdin is closed")
    if stream.isatty():
        raw = stream.readline()
    else:
        raw = stream.read(MAX_CODE_LENGTH + 2)
    code = raw.strip()
    add_secret(code)
    if not code:
        raise AgentError("usage", "activate reads the activation code from stdin, and stdin was empty")
    if len(code) > MAX_CODE_LENGTH or "\n" in code:
        raise AgentError("usage", "stdin must hold exactly one activation code of at most %d characters"
                         % MAX_CODE_LENGTH)
    return code


def activation_retry(outcome):
    """Which failures of POST /activate to repeat (at most MAX_ATTEMPTS in all).

    Everything that is not an answer about the code: refused or dropped connections, timeouts, 429
    without the attempts code (a rate limit in front of the cabinet), 5xx. Repeating is safe even when
    the first attempt did redeem the code before its answer was lost: the repeat is then refused as
    "used", and cmd_activate recognises its own redemption in the cabinet's bindings.
    """
    if isinstance(outcome, Unreachable):
        return True
    if outcome.status == 429:
        return outcome.error_code() != "activation-code-attempts-exceeded"
    return outcome.status >= 500


def may_have_redeemed(outcome):
    """Whether a failed attempt may have reached the cabinet and redeemed the code."""
    if isinstance(outcome, Unreachable):
        return outcome.sent
    return outcome.status >= 500 and outcome.status not in (502, 503)


def binding_keys(bindings):
    return {(b["retailPointId"], b.get("since")) for b in bindings}


def cmd_activate(home, config, cabinet, code):
    body = {"code": code, "serial": config["serial"], "model": config["model"],
            "appVersion": config["appVersion"]}
    credentials = home.load_credentials()
    before = None
    if credentials is not None:
        # The cabinet's bindings before redeeming, in one quick try: if an answer is lost below, a binding
        # that appears (or is renewed) between this list and the next one is this redemption.
        try:
            before = fetch_bindings(cabinet, credentials, retry=lambda outcome: False)
        except (AgentError, Unreachable):
            before = None

    seen = {"ambiguous": False}

    def retry(outcome):
        if may_have_redeemed(outcome):
            seen["ambiguous"] = True
        return activation_retry(outcome)

    response, lost = None, None
    try:
        response = cabinet.request("POST", ACTIVATE_PATH, body=body, retry=retry)
    except Unreachable as exc:
        lost = exc
        if exc.sent:
            seen["ambiguous"] = True
    if response is not None and response.status == 200:
        try:
            return finish_activation(home, config, cabinet, response)
        except AgentError as exc:
            # Redeemed, but the answer is unusable (not the JSON expected): the code is spent either way.
            recovered = (recover_lost_activation(home, config, cabinet, credentials, before)
                         if before is not None else None)
            if recovered is not None:
                return recovered
            exc.extra["outcomeUnknown"] = True
            raise
    if response is not None and may_have_redeemed(response):
        seen["ambiguous"] = True   # the last attempt is not passed to retry()
    refusal = classify_refusal(response) if response is not None else None

    ambiguous = seen["ambiguous"] and (lost is not None or refusal == "activation-code-used"
                                       or response.status >= 500)
    if ambiguous and before is not None:
        recovered = recover_lost_activation(home, config, cabinet, credentials, before)
        if recovered is not None:
            return recovered

    if lost is not None:
        err = unreachable("POST", ACTIVATE_PATH, lost)
        if ambiguous:
            err.message += ("; the code may have been redeemed before the connection failed: check the "
                            "point in the cabinet (kkmInfo.serialNumber) before issuing a new code")
            err.extra["outcomeUnknown"] = True
        raise err
    if ambiguous and refusal == "activation-code-used":
        raise AgentError("cabinet-unreachable", "POST %s: an attempt failed after the code was sent, and the "
                         "repeat found the code used: it was probably redeemed by this register, but the "
                         "cabinet's bindings could not confirm it; check the point in the cabinet"
                         % ACTIVATE_PATH, outcomeUnknown=True)
    if refusal is not None:
        message = refusal_message(refusal)
        wait = response.headers.get("Retry-After") if response.headers is not None else None
        if refusal == "activation-code-attempts-exceeded" and wait and wait.isdigit():
            message += " (the cabinet says: retry after %s s)" % wait
        raise AgentError(refusal, message)
    err = unexpected("POST", ACTIVATE_PATH, response)
    if ambiguous:
        err.extra["outcomeUnknown"] = True
    raise err


def classify_refusal(response):
    """Our error code if the cabinet refused the code itself, else None.

    The status decides (a body cut off by a dropped connection still has its status line); a body with a
    different machine code (say a router's 404 on a cabinet without the device API) is not a refusal.
    """
    code_name = response.error_code()
    if response.status in ACTIVATION_REFUSALS and code_name in (None, ACTIVATION_REFUSALS[response.status]):
        return ACTIVATION_REFUSALS[response.status]
    if response.status == 429 and code_name == "activation-code-attempts-exceeded":
        return code_name
    return None


def finish_activation(home, config, cabinet, response):
    answer = response.json()
    point = answer.get("retailPoint") if isinstance(answer, dict) else None
    credentials = answer.get("credentials") if isinstance(answer, dict) else None
    if (not isinstance(point, dict) or not point.get("id") or not isinstance(credentials, dict)
            or not isinstance(credentials.get("login"), str) or not isinstance(credentials.get("password"), str)
            or not credentials["login"] or not credentials["password"]):
        raise AgentError("cabinet-error", "POST %s: the answer lacks retailPoint.id or credentials"
                         % ACTIVATE_PATH)
    add_secret(credentials["login"])
    add_secret(credentials["password"])
    credentials = {"login": credentials["login"], "password": credentials["password"]}
    point_id = str(point["id"])
    if home.load_credentials() != credentials:
        home.save_credentials(credentials)
    # Store the new binding locally first, so it is kept even if the reconciliation below cannot run.
    local = [b for b in home.load_bindings() if b["retailPointId"] != point_id]
    local.append({"retailPointId": point_id, "name": point.get("name"), "since": utc_now()})
    home.save_bindings(local)
    doc = reconcile(home, config, cabinet, credentials)
    doc["activated"] = {"retailPointId": point_id, "name": point.get("name")}
    return doc


def recover_lost_activation(home, config, cabinet, credentials, before):
    """The status document if exactly one binding appeared since ``before`` (our redemption), else None."""
    try:
        after = fetch_bindings(cabinet, credentials)
    except (AgentError, Unreachable):
        return None
    new = [b for b in after if (b["retailPointId"], b.get("since")) not in binding_keys(before)]
    if len(new) != 1:
        return None
    home.save_bindings(after)
    doc = status_document(config, after, True)
    doc["activated"] = {"retailPointId": new[0]["retailPointId"], "name": new[0].get("name")}
    doc["recovered"] = True
    return doc


def refusal_message(code):
    return {
        "activation-code-invalid": "the cabinet does not know this activation code (a typo, or a code that "
                                   "was withdrawn or replaced)",
        "activation-code-expired": "the activation code has expired; issue a new one in the cabinet",
        "activation-code-used": "the activation code has already been redeemed; issue a new one",
        "activation-code-attempts-exceeded": "too many wrong activation codes from this register; wait a "
                                             "minute before trying again",
    }[code]


def cmd_deactivate(home, config, cabinet, point_id):
    credentials = home.load_credentials()
    local = home.load_bindings()
    if credentials is None:
        raise AgentError("not-bound", "retail point %s is not bound to this register (it was never "
                                      "activated)" % point_id)
    path = "%s/%s" % (BINDINGS_PATH, urllib.parse.quote(point_id, safe=""))
    state = {"maybe_done": False}

    def retry(outcome):
        # DELETE is idempotent, but after an attempt that may have succeeded, a 404 means "done by us".
        if default_retry(outcome):
            if isinstance(outcome, Unreachable) and outcome.sent:
                state["maybe_done"] = True
            elif not isinstance(outcome, Unreachable) and outcome.status == 500:
                state["maybe_done"] = True
            return True
        return False

    try:
        response = cabinet.request("DELETE", path, auth=credentials, retry=retry)
    except Unreachable as exc:
        raise unreachable("DELETE", path, exc)
    if response.status == 404 and not state["maybe_done"]:
        remaining = [b for b in local if b["retailPointId"] != point_id]
        if len(remaining) != len(local):
            home.save_bindings(remaining)   # the cabinet moved it elsewhere: forget it here too
        raise AgentError("not-bound", "retail point %s is not bound to this register" % point_id)
    if response.status in (401, 403):
        raise AgentError("credentials-rejected", "DELETE %s: the cabinet rejected this register's device "
                                                 "credentials (HTTP %d)" % (path, response.status))
    if response.status not in (200, 204, 404):
        raise unexpected("DELETE", path, response)
    home.save_bindings([b for b in local if b["retailPointId"] != point_id])
    doc = reconcile(home, config, cabinet, credentials)
    doc["deactivated"] = {"retailPointId": point_id}
    return doc


# ---------------------------------------------------------------------------------------------- arguments
def parse_args(argv):
    """A tiny parser. Unlike argparse it never echoes an unexpected argument back: a mistyped call such
    as ``activate CODE`` must not put the code into an error message."""
    opts = {"home": None, "command": None, "retail_point": None, "help": False}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            opts["help"] = True
        elif arg == "--version":
            opts["command"] = opts["command"] or "version"
        elif arg in ("--home", "--retail-point") or arg.startswith(("--home=", "--retail-point=")):
            name, _, value = arg.partition("=")
            if not _:
                i += 1
                if i >= len(argv):
                    raise AgentError("usage", "%s needs a value" % name)
                value = argv[i]
            if not value:
                raise AgentError("usage", "%s needs a non-empty value" % name)
            opts[name[2:].replace("-", "_")] = value
        elif arg.startswith("-"):
            raise AgentError("usage", "unknown option (argument %d)" % (i + 1))
        elif opts["command"] is None and arg in ("status", "activate", "deactivate"):
            opts["command"] = arg
        elif opts["command"] == "activate":
            raise AgentError("usage", "activate takes no arguments: the activation code is read from stdin, "
                                      "never from the command line (where ps would show it)")
        else:
            raise AgentError("usage", "unexpected argument (argument %d)" % (i + 1))
        i += 1
    if opts["help"]:
        return opts
    if opts["command"] is None:
        raise AgentError("usage", "a command is required: status, activate or deactivate")
    if opts["command"] == "deactivate" and not opts["retail_point"]:
        raise AgentError("usage", "deactivate needs --retail-point ID")
    if opts["command"] != "deactivate" and opts["retail_point"]:
        raise AgentError("usage", "--retail-point is only for deactivate")
    return opts


def emit(doc, stream=None):
    stream = stream or sys.stdout
    stream.write(scrub(json.dumps(doc, sort_keys=True)) + "\n")
    stream.flush()


def main(argv=None, stdin=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    stdin = sys.stdin if stdin is None else stdin
    home = None
    try:
        opts = parse_args(argv)
        if opts["help"]:
            sys.stdout.write(USAGE + "\n")
            return 0
        if opts["command"] == "version":
            emit({"agentVersion": AGENT_VERSION})
            return 0
        home_dir = opts["home"] or os.environ.get(HOME_ENV)
        if not home_dir:
            raise AgentError("usage", "no home directory: give --home DIR or set %s" % HOME_ENV)
        home = Home(home_dir)
        config = home.load_config()
        cabinet = Cabinet(config)
        code = None
        if opts["command"] == "activate":
            code = read_code(stdin)   # before the lock: a slow typist must not block other commands
        home.lock(timeout=cabinet.timeout * MAX_ATTEMPTS * 2 + 10)
        if opts["command"] == "status":
            doc = cmd_status(home, config, cabinet)
        elif opts["command"] == "activate":
            doc = cmd_activate(home, config, cabinet, code)
        else:
            doc = cmd_deactivate(home, config, cabinet, opts["retail_point"])
        emit(doc)
        return 0
    except AgentError as exc:
        doc = dict(exc.extra)
        doc.update({"error": exc.code, "message": exc.message})
        emit(doc)
        return exc.exit_code
    except KeyboardInterrupt:
        emit({"error": "interrupted", "message": "interrupted"})
        return 1
    except Exception as exc:  # the contract: JSON on stdout, never a traceback that might hold a secret
        emit({"error": "internal-error", "message": "%s: %s" % (exc.__class__.__name__, exc)})
        return 1
    finally:
        if home is not None:
            home.unlock()


if __name__ == "__main__":
    sys.exit(main())
