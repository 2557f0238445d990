# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render diffs for people reading CI logs.

Ansible's callbacks print dict diffs as ASCII-escaped JSON, which turns every Cyrillic point name into
``\\u0420\\u043e...``. Each object is therefore rendered as YAML text (Unicode kept, declared field order), one
diff per object with headers naming it, so a three-line context hunk still says which point changed.
Structured before/after stay available in the plugins' ``results``. Controller-only (it needs PyYAML),
hence plugin_utils and not module_utils.
"""

from __future__ import annotations

import yaml


def _text(data):
    return yaml.safe_dump(data, allow_unicode=True, default_flow_style=False, sort_keys=False, width=1000)


def object_diff(label, before, after):
    """One Ansible diff entry for one object; ``label`` names it in both headers."""
    return {
        "before_header": "%s (now)" % label,
        "after_header": "%s (declared)" % label,
        "before": _text(before),
        "after": _text(after),
    }


def diff_entries(entries):
    """One diff entry per ``(label, before, after)`` of a plan (``PointPlan.diff_entries()``)."""
    return [object_diff(label, before, after) for label, before, after in entries]
