# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an answer of the cabinet means: the error it is, or the JSON it carries (decisions D8 and D22).

The client (``_cabinet_client.py``) sends and retries; these functions read one answer that came back. The client
trusts no answer's shape: an error is typed by its status, with the server's machine code and field list; a
success must be the JSON the request expects, and a retail point an object with a string ``id`` and ``name``.
Every message goes through the task's ``Redactor`` and quotes at most a short excerpt of the answer.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import (
    CabinetAuthError,
    CabinetConflict,
    CabinetError,
    CabinetNotFound,
    CabinetProtocolError,
    CabinetUnavailable,
    CabinetValidationError,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import json_type

EXCERPT_LIMIT = 200
_EXCERPT_SCAN_LIMIT = 10000
_WHITESPACE_RE = re.compile(r"\s+")


def reason(response):
    """The answer's reason phrase (``Too Many Requests``), from the answer or from its status."""
    phrase = getattr(response, "reason_phrase", "")
    if phrase:
        return phrase
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""


def _excerpt(redactor, text):
    text = _WHITESPACE_RE.sub(" ", redactor.redact(text[:_EXCERPT_SCAN_LIMIT])).strip()
    if len(text) > EXCERPT_LIMIT:
        text = text[:EXCERPT_LIMIT] + "..."
    return text


def _looks_like_error_body(data):
    status = data.get("status")
    return json_type(status) in ("integer", "number") and status >= 400 and "error" in data and "message" in data


def error_details(redactor, response):
    """(code, errors, excerpt) from an error answer; the Spring-style body when there is one."""
    try:
        data = json.loads(response.content) if response.content else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = data.get("message")
        if code is None and data.get("error") is not None:
            code = data.get("error")
        code = redactor.redact(_WHITESPACE_RE.sub(" ", str(code)).strip())[:EXCERPT_LIMIT] if code is not None else None
        errors = data.get("errors")
        errors = redactor.redact_data(errors) if isinstance(errors, list) else []
        return code or None, errors, None
    if not response.content:
        return None, [], None
    return None, [], _excerpt(redactor, response.text)


def status_error(redactor, method, path, response):
    """The ``CabinetError`` that an answer outside 2xx (and not retried) is."""
    status = response.status_code
    code, errors, excerpt = error_details(redactor, response)
    if code:
        detail = "%d %s" % (status, code)
    else:
        detail = "HTTP %d %s" % (status, reason(response))
    fields = []
    for item in errors:
        if isinstance(item, dict) and item.get("field") is not None:
            field = str(item["field"])
            if item.get("code") is not None and item.get("code") != code:
                field += " (%s)" % item["code"]
            fields.append(field)
    if fields:
        detail += ": " + ", ".join(fields)
    if excerpt:
        detail += "; answer: " + excerpt

    kwargs = dict(status=status, code=code, method=method, path=path)
    if status in (400, 422):
        cls, what = CabinetValidationError, "the cabinet rejected the request"
        kwargs["errors"] = errors
    elif status == 401:
        cls, what = CabinetAuthError, "the cabinet refused the credentials; check cabinet_login and cabinet_password"
    elif status == 403:
        cls, what = CabinetAuthError, "access denied for this account"
    elif status == 404:
        cls, what = CabinetNotFound, "not found"
    elif status == 409:
        cls, what = CabinetConflict, "conflict"
    elif 300 <= status < 400:
        location = response.headers.get("Location")
        cls, what = CabinetError, "unexpected redirect%s; check cabinet_url" % (" to %s" % location if location else "")
    elif status >= 500:
        cls, what = CabinetUnavailable, "cabinet server error"
        kwargs["attempts"] = 1
    else:
        cls, what = CabinetError, "the cabinet refused the request"
    return cls(redactor.redact("%s %s: %s (%s)" % (method, path, what, detail)), **kwargs)


def parsed(redactor, method, path, response, expect):
    """The JSON of a 2xx answer, which must be of type ``expect`` (list or dict); its secrets join ``redactor``."""
    status = response.status_code
    content = response.content
    if status == 204 or not content.strip():
        raise CabinetProtocolError(
            "%s %s: expected a JSON %s, got an empty answer (HTTP %d)" % (method, path, json_type(expect()), status),
            status=status, method=method, path=path)
    content_type = response.headers.get("Content-Type", "")
    try:
        data = json.loads(content)
    except ValueError as exc:
        text = response.text
        if "html" in content_type.lower() or text.lstrip()[:1] == "<":
            what = "an HTML page"
        elif "json" in content_type.lower():
            what = "invalid or truncated JSON (%s)" % getattr(exc, "msg", exc.__class__.__name__)
        else:
            what = "a body that is not JSON"
        raise CabinetProtocolError(
            redactor.redact("%s %s: expected a JSON answer, got %s (HTTP %d%s): %s" % (
                method, path, what, status, ", " + content_type if content_type else "", _excerpt(redactor, text))),
            status=status, method=method, path=path) from None
    redactor.learn(data)
    if isinstance(data, dict) and _looks_like_error_body(data):
        code = redactor.redact(str(data.get("message")))[:EXCERPT_LIMIT]
        raise CabinetProtocolError(
            redactor.redact("%s %s: the cabinet answered HTTP %d with an error body (%s %s)"
                            % (method, path, status, data.get("status"), code)),
            status=status, code=code, method=method, path=path)
    if not isinstance(data, expect):
        raise CabinetProtocolError(
            "%s %s: expected a JSON %s, got a JSON %s (HTTP %d)" % (method, path, json_type(expect()), json_type(data), status),
            status=status, method=method, path=path)
    return data


def point_problem(item):
    """Why ``item`` is not a retail point as the cabinet returns them (an object with a string id and name), or None."""
    if not isinstance(item, dict):
        return "a JSON %s, not an object" % json_type(item)
    point_id = item.get("id")
    if not isinstance(point_id, str) or not point_id.strip():
        return "its id is %s, not a non-empty string" % ("missing" if point_id is None else "a JSON " + json_type(point_id))
    if not isinstance(item.get("name"), str):
        return "its name is %s, not a string" % ("missing" if item.get("name") is None else "a JSON " + json_type(item["name"]))
    for key in ("settings", "kkmInfo"):
        if item.get(key) is not None and not isinstance(item[key], dict):
            return "its %s is a JSON %s, not an object" % (key, json_type(item[key]))
    return None
