# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``modulkassa.pos.cabinet_changes`` event source, in process, through its ``main(queue, args)`` contract.

Against the real emulator: hand edits go through its API (and, for what only the cabinet itself sets - health
statuses, formatting a real cabinet may return - through its SQLite store); activations through its device
API. The source is loaded from the collections path with ``runpy.run_path``, as ansible-rulebook loads it.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import stat
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from eda_helpers import (  # noqa: E402
    INN10,
    KPP,
    LIST_ROUTE,
    WATCHED,
    RunningSource,
    activate,
    change_stored_point,
    delete_point,
    edit_point,
    issue_code,
    new_point,
    release,
    set_health,
    source_args,
    types,
    wait_for_polls,
)
from test_tls import tls_cabinet  # noqa: E402,F401 - the HTTPS emulator with a private CA, as a fixture here too


@pytest.fixture
def source(collection_root, cabinet):
    """``source(**args)`` starts the event source on the watched account; every one started is stopped."""
    started = []

    def start(**extra):
        run = RunningSource(collection_root, source_args(cabinet, **extra))
        started.append(run)
        return run

    yield start
    for run in started:
        run.stop()


@pytest.fixture
def api(cabinet):
    return cabinet.api(WATCHED)


def serial():
    return "SN-EDA-%s" % uuid.uuid4().hex[:8].upper()


def test_first_poll_is_a_baseline_and_a_poll_is_one_request(source, cabinet, api):
    for _ in range(3):
        new_point(api)
    before = cabinet.counters(WATCHED)

    run = source()
    wait_for_polls(cabinet, 4)

    assert run.drain() == [], "the first poll must establish the baseline, not report the existing points"
    after = cabinet.counters(WATCHED)
    made = dict((key, count - before.get(key, 0)) for key, count in after.items() if count != before.get(key, 0))
    assert set(made) == {LIST_ROUTE} and made[LIST_ROUTE] >= 4, made  # one list per poll, nothing per point
    assert run.running and run.error is None


def test_created_edited_and_deleted_points(source, cabinet, api):
    run = source()
    wait_for_polls(cabinet, 2)

    point = new_point(api, name="EDA watched %s" % uuid.uuid4().hex[:6])
    created = run.wait_for_type("point_created", point["id"])["modulkassa"]
    assert created["point"] == {"id": point["id"], "name": point["name"]}
    assert created["fields"] == {"name": point["name"], "address": "Moscow, Tverskaya 1", "phone": "9123456789",
                                 "inn": INN10, "kpp": KPP, "tax_mode": "COMMON", "vat_tag": 1105,
                                 "fiscal_service_enabled": False}
    assert created["register_serial"] is None
    assert created["health"] == {"kkt_status": "KKT_NOT_PLUGGED", "registration_status": "NOT_EXISTS"}
    assert created["account"] == WATCHED and created["cabinet_url"] == cabinet.url
    observed = datetime.datetime.fromisoformat(created["observed_at"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.timezone.utc) - observed).total_seconds()) < 30

    edit_point(api, point["id"], address="Moscow, Arbat 2", settings={"defaultVatTag": 1102})
    edited = run.wait_for_type("point_edited", point["id"])["modulkassa"]
    assert edited["changes"] == {"address": {"before": "Moscow, Tverskaya 1", "after": "Moscow, Arbat 2"},
                                 "vat_tag": {"before": 1105, "after": 1102}}
    assert edited["point"] == {"id": point["id"], "name": point["name"]}

    renamed = point["name"] + " renamed"
    edit_point(api, point["id"], name=renamed)
    edited = run.wait_for_type("point_edited", point["id"])["modulkassa"]
    assert edited["point"] == {"id": point["id"], "name": renamed}
    assert edited["changes"] == {"name": {"before": point["name"], "after": renamed}}

    # The same values written the way a real cabinet may return them: not a change (the canonical model).
    def reformat(body):
        body["phone"] = "+7 (912) 345-67-89"
        body["address"] = "  Moscow, Arbat 2 "
        body["settings"]["defaultVatTag"] = "1102"
        body["settings"]["defaultTaxMode"] = "common"
    change_stored_point(cabinet, point["id"], reformat)
    wait_for_polls(cabinet, 3)

    delete_point(api, point["id"])
    deleted = run.wait_for_type("point_deleted", point["id"])["modulkassa"]
    assert deleted["point"] == {"id": point["id"], "name": renamed}
    assert deleted["fields"]["address"] == "Moscow, Arbat 2"

    events = run.stop()
    assert types(events) == ["point_created", "point_edited", "point_edited", "point_deleted"], events


def test_activated_moved_and_released_by_register_serial(source, cabinet, api):
    point = new_point(api)
    run = source()
    wait_for_polls(cabinet, 2)

    first_code = issue_code(api, point["id"])
    wait_for_polls(cabinet, 2)  # a code waiting to be redeemed is no event (and never shown)
    first, second = serial(), serial()
    first_credentials = activate(cabinet, first_code, first)
    activated = run.wait_for_type("point_activated", point["id"])["modulkassa"]
    assert activated["register_serial"] == first and activated["previous_register_serial"] is None
    assert activated["health"]["kkt_status"] == "REGISTERED"

    second_code = issue_code(api, point["id"])
    second_credentials = activate(cabinet, second_code, second)
    moved = run.wait_for_type("point_activated", point["id"])["modulkassa"]
    assert moved["register_serial"] == second and moved["previous_register_serial"] == first

    release(cabinet, second_credentials, point["id"])
    released = run.wait_for_type("point_released", point["id"])["modulkassa"]
    assert released["register_serial"] == second
    assert released["health"]["kkt_status"] == "KKT_NOT_PLUGGED"
    assert released["point"] == {"id": point["id"], "name": point["name"]}

    events = run.stop()
    # The register status that comes with an activation is part of that event, not a health_changed of its own.
    assert types(events) == ["point_activated", "point_activated", "point_released"], events
    text = json.dumps(events)
    for secret in (first_code, second_code, first_credentials["password"], second_credentials["password"]):
        assert secret not in text


def test_health_changes(source, cabinet, api):
    point = new_point(api)
    register = serial()
    activate(cabinet, issue_code(api, point["id"]), register)
    run = source()
    wait_for_polls(cabinet, 2)

    set_health(cabinet, point["id"], kkt_status="FN_NOT_PLUGGED")
    changed = run.wait_for_type("health_changed", point["id"])["modulkassa"]
    assert changed["changes"] == {"kkt_status": {"before": "REGISTERED", "after": "FN_NOT_PLUGGED"}}
    assert changed["health"] == {"kkt_status": "FN_NOT_PLUGGED", "registration_status": "NOT_EXISTS"}
    assert changed["register_serial"] == register

    set_health(cabinet, point["id"], registration_status="ERROR")
    changed = run.wait_for_type("health_changed", point["id"])["modulkassa"]
    assert changed["changes"] == {"registration_status": {"before": "NOT_EXISTS", "after": "ERROR"}}

    set_health(cabinet, point["id"], kkt_status="REGISTERED", registration_status="REGISTERED")
    changed = run.wait_for_type("health_changed", point["id"])["modulkassa"]
    assert changed["changes"] == {"kkt_status": {"before": "FN_NOT_PLUGGED", "after": "REGISTERED"},
                                  "registration_status": {"before": "ERROR", "after": "REGISTERED"}}

    assert types(run.stop()) == ["health_changed"] * 3


def test_restart_emits_changes_made_while_stopped_once_and_old_ones_never(source, cabinet, api, tmp_path):
    state_file = tmp_path / "cabinet-changes.json"
    kept, gone = new_point(api), new_point(api)
    run = source(state_file=str(state_file))
    wait_for_polls(cabinet, 2)
    edit_point(api, kept["id"], address="Before the restart")
    run.wait_for_type("point_edited", kept["id"])
    run.stop()
    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600

    # While no source runs:
    edit_point(api, kept["id"], address="While stopped")
    delete_point(api, gone["id"])
    born = new_point(api)

    run = source(state_file=str(state_file))
    edited = run.wait_for_type("point_edited", kept["id"])["modulkassa"]
    assert edited["changes"] == {"address": {"before": "Before the restart", "after": "While stopped"}}
    wait_for_polls(cabinet, 3)
    events = run.stop()
    assert sorted((e["modulkassa"]["type"], e["modulkassa"]["point"]["id"]) for e in events) == sorted([
        ("point_created", born["id"]), ("point_edited", kept["id"]), ("point_deleted", gone["id"])]), events

    run = source(state_file=str(state_file))  # nothing changed since: nothing to say
    wait_for_polls(cabinet, 3)
    assert run.stop() == []

    edit_point(api, kept["id"], address="Unseen")
    run = source()  # without a state file, a start is a new baseline: what happened before is not replayed
    wait_for_polls(cabinet, 3)
    assert run.stop() == []


def test_no_secret_in_events_state_file_or_log(source, cabinet, api, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    state_file = tmp_path / "state.json"
    password = cabinet.accounts[WATCHED]
    token = base64.b64encode(("%s:%s" % (WATCHED, password)).encode()).decode()
    run = source(state_file=str(state_file))
    wait_for_polls(cabinet, 2)

    point = new_point(api)
    run.wait_for_type("point_created", point["id"])
    redeemed = issue_code(api, point["id"])
    credentials = activate(cabinet, redeemed, serial())
    pending = issue_code(api, point["id"])  # a live code the cabinet shows in every list answer
    run.wait_for_type("point_activated", point["id"])
    cabinet.knobs(p_5xx=1.0, fault_methods=["GET"])  # an error message from the client, too
    run.wait_for_type("poll_failed")
    cabinet.restore_knobs()
    run.wait_for_type("poll_recovered")
    events = run.stop()

    text = "\n".join([json.dumps(events, ensure_ascii=False), state_file.read_text(encoding="utf-8"), caplog.text])
    for name, secret in (("password", password), ("Basic token", token), ("redeemed code", redeemed),
                         ("pending code", pending), ("device password", credentials["password"])):
        assert secret not in text, "the %s leaked" % name
    assert "posLinkToken" not in text


def test_429_with_retry_after_is_waited_out_within_the_poll(source, cabinet, api, caplog):
    caplog.set_level(logging.WARNING, logger="modulkassa.pos.cabinet_changes")
    point = new_point(api)
    run = source(retries=3)
    wait_for_polls(cabinet, 2)

    cabinet.knobs(p_429=1.0, retry_after_s=1, fault_methods=["GET"])
    edit_point(api, point["id"], address="Seen after a 429")  # a PUT: not rate limited
    deadline = time.monotonic() + 20
    while not any("429" in record.getMessage() for record in caplog.records):
        assert time.monotonic() < deadline, "no retry warning for the 429"
        time.sleep(0.02)
    cabinet.knobs(p_429=0.0)
    warning = next(record for record in caplog.records if "429" in record.getMessage())

    run.wait_for_type("point_edited", point["id"])
    assert time.time() - warning.created >= 0.95, "the retry did not wait for Retry-After: 1"
    assert "Retry-After: 1" in warning.getMessage() and "GET /api/v1/retail-points" in warning.getMessage()
    assert types(run.stop()) == ["point_edited"]  # no poll_failed: the client's retry absorbed it


def test_a_failing_cabinet_gives_one_poll_failed_and_no_false_change(source, cabinet, api):
    new_point(api)
    blind_spot = new_point(api)
    run = source(retries=0)
    wait_for_polls(cabinet, 2)

    cabinet.knobs(p_5xx=1.0, fault_methods=["GET"])
    wait_for_polls(cabinet, 4)
    delete_point(api, blind_spot["id"])  # while the source cannot see
    wait_for_polls(cabinet, 2)
    failed = run.drain()
    assert types(failed) == ["poll_failed"], "one event for the whole streak, and no point reported deleted"
    assert "GET /api/v1/retail-points" in failed[0]["modulkassa"]["error"]
    assert "point" not in failed[0]["modulkassa"]

    cabinet.restore_knobs()
    recovered = run.wait_for_type("poll_recovered")["modulkassa"]
    assert recovered["failed_polls"] >= 6
    assert recovered["failing_since"] == failed[0]["modulkassa"]["observed_at"]
    run.wait_for_type("point_deleted", blind_spot["id"])
    assert types(run.stop()) == ["poll_failed", "poll_recovered", "point_deleted"]


def test_a_cabinet_failing_at_start_gives_the_baseline_once_it_answers(source, cabinet, api):
    new_point(api)
    cabinet.knobs(p_5xx=1.0, fault_methods=["GET"])
    run = source(retries=0)
    run.wait_for_type("poll_failed")
    wait_for_polls(cabinet, 2)
    cabinet.restore_knobs()
    run.wait_for_type("poll_recovered")
    wait_for_polls(cabinet, 3)
    assert types(run.stop()) == ["poll_failed", "poll_recovered"]  # the existing points are the baseline


def test_shutdown_does_not_wait_for_a_slow_poll(source, cabinet):
    cabinet.knobs(latency_ms=5000)
    run = source()
    wait_for_polls(cabinet, 1)  # the poll is in flight, waiting for the slow answer
    started = time.monotonic()
    run.stop()
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("extra, message", [
    ({"cabinet_password": ""}, "cabinet_password is required"),
    ({"intervall": 5}, "unknown option intervall"),
    ({"interval": 0}, "interval must be > 0"),
    ({"cabinet_url": "ftp://cabinet.example"}, "the scheme must be http or https"),
])
def test_unusable_options_fail_at_start_without_a_request(collection_root, cabinet, extra, message, monkeypatch):
    for variable in ("MODULKASSA_URL", "MODULKASSA_LOGIN", "MODULKASSA_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    before = cabinet.counters(WATCHED).get(LIST_ROUTE, 0)
    run = RunningSource(collection_root, source_args(cabinet, **extra))
    run.stop()
    assert isinstance(run.error, ValueError) and message in str(run.error), run.error
    assert cabinet.accounts[WATCHED] not in str(run.error)
    assert cabinet.counters(WATCHED).get(LIST_ROUTE, 0) == before


def test_credentials_from_the_environment(collection_root, cabinet, api, monkeypatch):
    monkeypatch.setenv("MODULKASSA_URL", cabinet.url)
    monkeypatch.setenv("MODULKASSA_LOGIN", WATCHED)
    monkeypatch.setenv("MODULKASSA_PASSWORD", cabinet.accounts[WATCHED])
    run = RunningSource(collection_root, {"interval": 0.2})
    try:
        wait_for_polls(cabinet, 2)
        point = new_point(api)
        assert run.wait_for_type("point_created", point["id"])["modulkassa"]["account"] == WATCHED
    finally:
        run.stop()


def test_tls_options_reach_the_client(collection_root, tls_cabinet):
    """validate_certs and ca_path are the collection client's: a private CA is refused until ca_path names it."""
    args = {"cabinet_url": tls_cabinet["url"], "cabinet_login": "demo@example.com",
            "cabinet_password": "demo-password-1", "interval": 0.2, "retries": 0}
    refused = RunningSource(collection_root, args)
    error = refused.wait_for_type("poll_failed")["modulkassa"]["error"]
    refused.stop()
    assert "CERTIFICATE_VERIFY_FAILED" in error and "ca_path" in error

    for extra in ({"ca_path": tls_cabinet["ca"]}, {"validate_certs": "false"}):
        run = RunningSource(collection_root, dict(args, **extra))
        time.sleep(1.5)  # several polls
        assert run.stop() == [] and run.error is None, extra
