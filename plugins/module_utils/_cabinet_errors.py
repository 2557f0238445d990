# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The errors of cabinet calls (docs/architecture.md, "Cabinet client").

Every one is a ``CabinetError``: the action plugins turn it into a clean ``failed`` result with its message, which
the client has already redacted and which is made printable here (no terminal control from an answer).
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._redaction import printable


class CabinetError(Exception):
    """Any failure of a cabinet call. ``str(err)`` is redacted, printable and safe to show to the user."""

    def __init__(self, message, status=None, code=None, method=None, path=None):
        message = printable(str(message))
        super(CabinetError, self).__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.method = method
        self.path = path

    def __str__(self):
        return self.message


class CabinetArgumentError(CabinetError, ValueError):
    """The client was given an unusable argument (``cabinet_url``, ``ca_path``, ``timeout``, an id...)."""


class CabinetAuthError(CabinetError):
    """HTTP 401 or 403: wrong credentials or no access."""


class CabinetNotFound(CabinetError):
    """HTTP 404."""


class CabinetConflict(CabinetError):
    """HTTP 409 (for example ``retail-point-already-exists``, ``retail-point-delete-forbidden``)."""


class CabinetValidationError(CabinetError):
    """HTTP 400 or 422; ``code`` is the server's machine code, ``errors`` its field list."""

    def __init__(self, message, status=None, code=None, method=None, path=None, errors=None):
        super(CabinetValidationError, self).__init__(message, status=status, code=code, method=method, path=path)
        self.errors = errors if errors is not None else []


class CabinetUnavailable(CabinetError):
    """Transport errors, timeouts, HTTP 429/5xx (after the retries allowed for the request)."""

    def __init__(self, message, status=None, code=None, method=None, path=None, attempts=None):
        super(CabinetUnavailable, self).__init__(message, status=status, code=code, method=method, path=path)
        self.attempts = attempts


class WritesStopped(CabinetError):
    """A write refused before it was sent: the client's write guard says the run must stop (the controller is gone)."""


class CabinetProtocolError(CabinetError):
    """An answer that is not the JSON expected: HTML, truncated JSON, wrong type, a 2xx error body."""
