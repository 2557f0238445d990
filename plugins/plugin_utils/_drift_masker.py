# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report's secret masker: a report is pasted into pull requests, so it masks again.

The plugins already keep codes and passwords out of their results (D8); ``SecretMasker`` is the defence in depth
(D14): by key name (``password``, ``posLinkToken``, ``code``, ``credentials`` ...) and by value (every value found
under such a key, and the cabinet password from the environment, is scrubbed from every string of the report).
The collector (``_drift_collector.py``) runs every result and the whole report through it.
"""

from __future__ import annotations

import re

MASK = "********"

# Exact key names (lower case) whose values are secrets, and parts of key names that mark one.
SECRET_KEYS = frozenset((
    "code", "codes", "activation_code", "poslinktoken", "credentials", "password", "passwd",
    "cabinet_password", "token", "secret", "authorization", "private_key", "api_key",
))
SECRET_KEY_PARTS = ("password", "passwd", "secret", "token", "credential", "private_key", "authorization", "api_key")
# Values shorter than this are masked where they sit under a secret key, but not scrubbed from other text:
# replacing "1" everywhere would destroy the report without protecting anything.
MIN_SCRUB_LENGTH = 4


class SecretMasker(object):
    """Masks values under secret-looking keys and scrubs known secret values from all text."""

    def __init__(self, extra_keys=(), values=()):
        self.keys = SECRET_KEYS | frozenset(str(k).strip().lower() for k in extra_keys if str(k).strip())
        self._values = set()
        for value in values:
            self.add_value(value)
        self._key_line_re = None
        self._compile()

    def _compile(self):
        names = "|".join(sorted((re.escape(k) for k in self.keys), key=len, reverse=True))
        # "  password: x", "- code: '123'", '"posLinkToken": "abc"' in YAML or JSON text (diffs, messages).
        self._key_line_re = re.compile(
            r"""(?im)((?:^|[\s{,\-])["']?(?:%s|[\w-]*(?:%s)[\w-]*)["']?\s*[:=]\s*)(?!\s*(?:null|none|~|true|false)\b)("[^"\n]*"|'[^'\n]*'|[^\s,}\n]+)"""
            % (names, "|".join(re.escape(p) for p in SECRET_KEY_PARTS)))

    def is_secret_key(self, key):
        key = str(key).strip().lower()
        return key in self.keys or any(part in key for part in SECRET_KEY_PARTS)

    def add_value(self, value):
        if isinstance(value, str) and len(value.strip()) >= MIN_SCRUB_LENGTH:
            self._values.add(value.strip())

    def learn(self, data, depth=0):
        """Remember every value found under a secret key, so that it is scrubbed elsewhere too."""
        if depth > 20:
            return
        if isinstance(data, dict):
            for key, value in data.items():
                if self.is_secret_key(key):
                    self._learn_all(value, depth + 1)
                else:
                    self.learn(value, depth + 1)
        elif isinstance(data, (list, tuple)):
            for item in data:
                self.learn(item, depth + 1)

    def _learn_all(self, value, depth):
        if depth > 20:
            return
        if isinstance(value, str):
            self.add_value(value)
        elif isinstance(value, dict):
            for item in value.values():
                self._learn_all(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._learn_all(item, depth + 1)

    def text(self, text):
        if not isinstance(text, str):
            return text
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return self._key_line_re.sub(lambda m: m.group(1) + MASK, text)

    def data(self, data, depth=0):
        """A masked deep copy: secret keys keep their key with ``********`` (None/bool values are kept)."""
        if depth > 20:
            return MASK
        if isinstance(data, dict):
            masked = {}
            for key, value in data.items():
                if self.is_secret_key(key) and value is not None and not isinstance(value, bool):
                    masked[str(key)] = MASK
                else:
                    masked[str(key)] = self.data(value, depth + 1)
            return masked
        if isinstance(data, (list, tuple)):
            return [self.data(item, depth + 1) for item in data]
        if isinstance(data, str):
            return self.text(data)
        if data is None or isinstance(data, (bool, int, float)):
            return data
        return self.text(str(data))
