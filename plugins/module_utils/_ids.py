# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a retail point id is, and how two ids compare: the one definition in the collection.

The cabinet names a point by a UUID in its 8-4-4-4-12 form and answers it in lower case, whatever case a request
used; a reference to a point (in the fleet data, a register's list, an option) is an id when it has that form, and
a name otherwise. The point model, the planners, the fleet schema (``POINT_ID_PATTERN``) and validator, the
inventory plugin and the filters (``modulkassa.pos.point_id_refs`` for the roles) all use these.
"""

from __future__ import annotations

import re

# JSON Schema and Python read this pattern alike (an anchored regular expression).
POINT_ID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_POINT_ID_RE = re.compile(POINT_ID_PATTERN)


def is_point_id(value):
    """Whether ``value`` is a cabinet point id: a string holding a UUID in its 8-4-4-4-12 form (any case; blanks
    around it are ignored, as everywhere a reference is read)."""
    return isinstance(value, str) and bool(_POINT_ID_RE.match(value.strip()))


def point_id_key(value):
    """The form in which ids compare and in which the cabinet stores them: without surrounding blanks, lower case."""
    return value.strip().lower()
