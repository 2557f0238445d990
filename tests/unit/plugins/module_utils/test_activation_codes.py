# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sealed code file's reading side, and the codes a task drew."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._activation_codes import (
    issue_code,
    record_code,
    sealed_code_of,
    withdraw_code,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetConflict

POINT_ID = "0b7e3c1e-1111-4222-8333-444455556666"


@pytest.mark.parametrize("content", [None, "not json", "[1, 2]", json.dumps({"Shop": "12345678"}),
                                     json.dumps({"Shop": {"id": "another-id", "code": "12345678"}}),
                                     json.dumps({"Other": {"id": POINT_ID, "code": "12345678"}}),
                                     json.dumps({"Shop": {"id": POINT_ID, "code": 12345678}})])
def test_no_sealed_copy(tmp_path, content):
    path = tmp_path / "codes.json"
    if content is not None:
        path.write_text(content)
    assert sealed_code_of(str(path), "Shop", POINT_ID) is None


def test_sealed_copy_and_record(tmp_path):
    path = tmp_path / "dir" / "codes.json"
    record_code(str(path), "Shop", POINT_ID, "12345678")
    assert sealed_code_of(str(path), "Shop", POINT_ID) == "12345678"
    assert oct(os.stat(str(path)).st_mode & 0o777) == "0o600"
    path.write_text(json.dumps({"Shop": {"id": "another-id", "code": "12345678"}}))
    record_code(str(path), "Shop", POINT_ID, "12345678")  # same code, other id: rewritten with this point's id
    assert sealed_code_of(str(path), "Shop", POINT_ID) == "12345678"


class Client(object):
    def __init__(self, conflicts=0):
        self.conflicts, self.secrets, self.calls = conflicts, [], []

    def add_secret(self, value):
        self.secrets.append(value)

    def update_point(self, point_id, partial, cleanup=False):
        self.calls.append((point_id, partial, cleanup))
        if self.conflicts:
            self.conflicts -= 1
            raise CabinetConflict("code taken", status=409)
        return {"id": point_id}


def test_every_drawn_code_is_recorded_before_it_is_sent_and_withdrawal_is_a_cleanup():
    client, drawn = Client(conflicts=2), set()
    code, dummy = issue_code(client, POINT_ID, drawn)
    assert len(drawn) == 3 and code in drawn and drawn == set(client.secrets)
    assert [c[1]["posLinkToken"] for c in client.calls] == client.secrets
    withdraw_code(client, POINT_ID)
    assert client.calls[-1] == (POINT_ID, {"posLinkToken": None}, True)
