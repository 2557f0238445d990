# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The watcher's rules on plain data: options, which change gives which event, the state file.

The event source itself runs against the emulator in tests/integration/test_eda_source.py.
"""

from __future__ import annotations

import copy
import json
import os
import runpy

import pytest
import yaml

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetUnavailable
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_watch import (
    OPTIONS,
    CabinetWatch,
    changes_between,
    load_state,
    save_state,
    settings_from_args,
    snapshot_of,
)

URL = "https://cabinet.example"
LOGIN = "chain@example.com"
ENV = {"MODULKASSA_URL": URL, "MODULKASSA_LOGIN": LOGIN, "MODULKASSA_PASSWORD": "s3cret-Pa55"}
CONTEXT = {"account": LOGIN, "cabinet_url": URL, "observed_at": "2026-11-24T10:00:00.000Z"}
ID_A = "0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a"
ID_B = "3769574b-d082-4c9e-9d4f-1b6a5d3e2f10"


def point(point_id=ID_A, name="Moscow 1", serial=None, kkt=None, registration="NOT_EXISTS", **top):
    body = {"id": point_id, "name": name, "address": "Moscow", "phone": "9123456789", "inn": "7707083893",
            "settings": {"defaultTaxMode": "COMMON", "defaultVatTag": 1105, "fiscalServiceEnabled": False,
                         "egaisSettings": {"kpp": "773601001"}},
            "posLinkToken": None, "kktStatus": kkt or ("REGISTERED" if serial else "KKT_NOT_PLUGGED"),
            "registrationRequestStatus": registration,
            "kkmInfo": {"serialNumber": serial, "model": "MSPOS-K"} if serial else None}
    body.update(top)
    return body


def events(before, after):
    return [e["modulkassa"] for e in changes_between(snapshot_of(before), snapshot_of(after), CONTEXT)]


# ---- options ---------------------------------------------------------------------------------------------

def test_settings_from_the_environment_with_defaults():
    settings = settings_from_args({}, ENV)
    assert (settings.cabinet_url, settings.cabinet_login, settings.cabinet_password) == (URL, LOGIN, "s3cret-Pa55")
    assert (settings.interval, settings.timeout, settings.retries, settings.validate_certs) == (60.0, 30.0, 3, True)
    assert settings.state_file is None and settings.ca_path is None
    assert "s3cret-Pa55" not in repr(settings)


def test_arguments_win_over_the_environment_and_strings_are_converted():
    settings = settings_from_args({"cabinet_login": "other@example.com", "interval": "5", "retries": "0",
                                   "validate_certs": "no", "timeout": 2, "eda_feedback_queue": object()}, ENV)
    assert settings.cabinet_login == "other@example.com"
    assert (settings.interval, settings.retries, settings.validate_certs, settings.timeout) == (5.0, 0, False, 2.0)


@pytest.mark.parametrize("args, message", [
    ({"cabinet_url": ""}, "cabinet_url is required (or set MODULKASSA_URL"),
    ({"interval": -1}, "interval must be > 0"),
    ({"interval": "soon"}, "interval must be a number"),
    ({"retries": 1.5}, "retries must be an integer"),
    ({"validate_certs": "perhaps"}, "validate_certs must be a boolean"),
    ({"state_file": "/nonexistent-dir/state.json"}, "the directory /nonexistent-dir does not exist"),
    ({"password": "x"}, "unknown option password"),
])
def test_unusable_options(args, message):
    env = dict(ENV, MODULKASSA_URL="") if "cabinet_url" in args else ENV
    with pytest.raises(ValueError) as caught:
        settings_from_args(args, env)
    assert message in str(caught.value)
    assert "s3cret-Pa55" not in str(caught.value)


# ---- which change gives which event ---------------------------------------------------------------------

def test_no_change_no_event_and_formatting_is_no_change():
    reformatted = point(phone="+7 (912) 345-67-89", address=" Moscow ")
    reformatted["settings"]["defaultVatTag"] = "1105"
    reformatted["settings"]["defaultTaxMode"] = "common"
    assert events([point()], [point()]) == []
    assert events([point()], [reformatted]) == []


def test_a_code_being_issued_is_no_event():
    assert events([point()], [point(posLinkToken="123456")]) == []


def test_edited_names_the_managed_fields_before_and_after():
    after = point(name="Moscow 1 renamed", address="Moscow, Arbat 2")
    after["settings"]["egaisSettings"]["kpp"] = ""
    (event,) = events([point()], [after])
    assert event["type"] == "point_edited"
    assert event["point"] == {"id": ID_A, "name": "Moscow 1 renamed"}
    assert event["changes"] == {"name": {"before": "Moscow 1", "after": "Moscow 1 renamed"},
                                "address": {"before": "Moscow", "after": "Moscow, Arbat 2"},
                                "kpp": {"before": "773601001", "after": ""}}
    assert list(event["changes"]) == ["name", "address", "kpp"]  # the model's field order


def test_activation_move_and_release_carry_the_serials_and_no_separate_health_event():
    (activated,) = events([point()], [point(serial="SN-1")])
    assert (activated["type"], activated["register_serial"], activated["previous_register_serial"]) == \
        ("point_activated", "SN-1", None)
    assert activated["health"]["kkt_status"] == "REGISTERED"
    (moved,) = events([point(serial="SN-1")], [point(serial="SN-2")])
    assert (moved["type"], moved["register_serial"], moved["previous_register_serial"]) == \
        ("point_activated", "SN-2", "SN-1")
    (released,) = events([point(serial="SN-2")], [point()])
    assert (released["type"], released["register_serial"]) == ("point_released", "SN-2")


def test_the_registration_status_changing_with_an_activation_is_its_own_event():
    activated, health = events([point()], [point(serial="SN-1", registration="REGISTERED")])
    assert activated["type"] == "point_activated"
    assert health["type"] == "health_changed"
    assert health["changes"] == {"registration_status": {"before": "NOT_EXISTS", "after": "REGISTERED"}}


def test_health_changed():
    (event,) = events([point(serial="SN-1")], [point(serial="SN-1", kkt="FN_NOT_PLUGGED", registration="ERROR")])
    assert event["type"] == "health_changed" and event["register_serial"] == "SN-1"
    assert event["changes"] == {"kkt_status": {"before": "REGISTERED", "after": "FN_NOT_PLUGGED"},
                                "registration_status": {"before": "NOT_EXISTS", "after": "ERROR"}}


def test_order_created_edited_activation_health_deleted_by_name():
    before = [point(ID_A, "b"), point(ID_B, "a", serial="SN-1")]
    after = [point(ID_A, "b", address="elsewhere", serial="SN-2"), point("4f0e8d1c-6a53-4b4e-9c47-0d8b7e9f1a22", "c"),
             point("5f0e8d1c-6a53-4b4e-9c47-0d8b7e9f1a22", "0")]
    assert [(e["type"], e["point"]["name"]) for e in events(before, after)] == [
        ("point_created", "0"), ("point_created", "c"), ("point_edited", "b"), ("point_activated", "b"),
        ("point_deleted", "a")]


def test_every_event_carries_the_context():
    for event in events([point()], [point(ID_B)]):
        assert {key: event[key] for key in CONTEXT} == CONTEXT


# ---- the watcher and its state file ----------------------------------------------------------------------

class FakeClient(object):
    """Stands in for CabinetClient: the answers of list_points, in turn (an exception is raised)."""

    base_url = URL

    def __init__(self, *answers):
        self.answers = list(answers)
        self.closed = False

    def list_points(self):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)

    def close(self):
        self.closed = True


def run_polls(watch, count):
    seen = []
    for _poll in range(count):
        found, snapshot = watch.poll()
        seen.extend(e["modulkassa"]["type"] for e in found)
        watch.accept(snapshot)
    return seen


def test_state_file_round_trip_and_mode(tmp_path):
    path = str(tmp_path / "state.json")
    snapshot = snapshot_of([point(serial="SN-1")])
    save_state(path, URL, LOGIN, snapshot)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert load_state(path, URL, LOGIN) == snapshot
    assert load_state(path, URL, LOGIN.upper()) == snapshot  # logins compare case-insensitively
    assert os.listdir(str(tmp_path)) == ["state.json"]  # no temporary file left


@pytest.mark.parametrize("content", ["{not json", json.dumps({"version": 99, "points": {}}), json.dumps([1])])
def test_an_unreadable_state_file_means_a_new_baseline(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_text(content, encoding="utf-8")
    watch = CabinetWatch(FakeClient([point()], [point(address="x")]), LOGIN, state_file=str(path))
    assert not watch.has_baseline
    assert run_polls(watch, 2) == ["point_edited"]
    assert load_state(str(path), URL, LOGIN) is not None  # replaced by a good one


def test_a_state_file_of_another_account_is_not_compared_with(tmp_path):
    path = str(tmp_path / "state.json")
    save_state(path, URL, "someone-else@example.com", snapshot_of([point(ID_B)]))
    watch = CabinetWatch(FakeClient([point()]), LOGIN, state_file=path)
    assert run_polls(watch, 1) == []  # not "ID_B deleted, ID_A created"


def test_failures_do_not_touch_the_reference():
    down = CabinetUnavailable("GET /api/v1/retail-points failed after 4 attempts: HTTP 503")
    watch = CabinetWatch(FakeClient([point(), point(ID_B)], down, down, [point(ID_B)]), LOGIN)
    assert run_polls(watch, 4) == ["poll_failed", "poll_recovered", "point_deleted"]


def test_close_waits_for_the_poll_in_flight():
    client = FakeClient([point()])
    watch = CabinetWatch(client, LOGIN)
    original = client.list_points

    def list_points_then_close():
        watch.close()  # ansible-rulebook shuts down while the poll is in its thread
        assert not client.closed
        return original()
    client.list_points = list_points_then_close
    watch.poll()
    assert client.closed


# ---- the event source's documentation -----------------------------------------------------------------------

def test_the_event_source_documents_exactly_its_options_and_defaults():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
    source = runpy.run_path(os.path.join(root, "extensions", "eda", "plugins", "event_source", "cabinet_changes.py"))
    documented = yaml.safe_load(source["DOCUMENTATION"])["options"]
    assert sorted(documented) == sorted(OPTIONS)
    defaults = settings_from_args({}, ENV)._asdict()
    for name, doc in documented.items():
        if "default" in doc:
            assert defaults[name] == doc["default"], name
        assert doc.get("required", False) == (name in ("cabinet_url", "cabinet_login", "cabinet_password")), name
    examples = yaml.safe_load(source["EXAMPLES"])
    assert examples[0]["sources"][0]["modulkassa.pos.cabinet_changes"]
