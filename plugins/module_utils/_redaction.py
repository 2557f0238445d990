# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keeping secrets and terminal controls out of every message the collection builds (decisions D8 and D22).

``Redactor`` holds the secrets of one task (the cabinet password, its Basic token, activation codes) and removes
them, in every form they can take in a message (as written, URL-encoded, JSON-escaped), from any text; it also
removes URL userinfo and Authorization header values whatever they hold. The cabinet client and the register
agent runner both redact through it. ``printable`` escapes what could drive a terminal or a CI log.
"""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import quote

REDACTED = "********"

# Keys whose string values are secrets wherever they appear in a request or an answer (D8).
SECRET_KEYS = frozenset(("posLinkToken", "password"))

_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
_AUTHORIZATION_RE = re.compile(r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)\S+(?:[ \t]+[A-Za-z0-9+/=._~-]+)?")

# What a hostile or broken server could use, through an excerpt of its answer, to rewrite the user's terminal or
# a CI log: C0/C1 controls (ESC sequences, CR, NUL), zero-width and bidi-override characters. \t and \n stay.
_UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# How deep ``learn`` looks for secret keys in an answer (points nest settings two levels down).
_LEARN_DEPTH = 6


def printable(text):
    """``text`` with every character that could drive a terminal written as ``\\uXXXX``."""
    return _UNPRINTABLE_RE.sub(lambda match: "\\u%04x" % ord(match.group()), text)


class Redactor(object):
    """A growing set of secrets, shared by the threads of one task, and the redaction of text and data by it."""

    def __init__(self, secrets=()):
        self._lock = threading.Lock()
        self._secrets = frozenset()
        self._order = ()
        for secret in secrets:
            self.add(secret)

    def add(self, value):
        """Redact ``value`` (and its URL- and JSON-escaped forms) from every text from now on."""
        if value is None:
            return
        value = str(value)
        if not value:
            return
        variants = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
        try:
            variants.add(quote(value, safe=""))
        except UnicodeError:  # a lone surrogate cannot be URL-encoded; the other forms still apply
            pass
        variants.discard("")
        with self._lock:
            if variants <= self._secrets:
                return
            secrets = self._secrets | variants
            self._secrets = secrets
            # Longest first, so that a secret containing another is replaced whole.
            self._order = tuple(sorted(secrets, key=lambda item: (-len(item), item)))

    def redact(self, text):
        """``text`` without any known secret, Authorization header value or URL userinfo."""
        if text is None:
            return text
        text = _USERINFO_RE.sub(r"\1", str(text))
        text = _AUTHORIZATION_RE.sub(r"\1" + REDACTED, text)
        # Secrets last: the patterns above only remove text or insert the marker, never form a secret.
        for secret in self._order:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def redact_data(self, data):
        """A copy of JSON data with every string redacted."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, list):
            return [self.redact_data(item) for item in data]
        if isinstance(data, dict):
            return dict((key, self.redact_data(value)) for key, value in data.items())
        return data

    def learn(self, data, depth=0):
        """Add every string found under a ``SECRET_KEYS`` key of JSON data (a request body, an answer)."""
        if depth > _LEARN_DEPTH:
            return
        if isinstance(data, dict):
            for key, value in data.items():
                if key in SECRET_KEYS and isinstance(value, str):
                    self.add(value)
                elif isinstance(value, (dict, list)):
                    self.learn(value, depth + 1)
        elif isinstance(data, list):
            for item in data:
                if isinstance(item, (dict, list)):
                    self.learn(item, depth + 1)
