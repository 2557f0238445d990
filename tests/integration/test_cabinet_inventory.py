# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cabinet inventory plugin with real ``ansible-inventory`` processes against the real emulator.

Registers are bound through the emulator's device API (what a register's agent calls), so the cabinet shows
them in ``kkmInfo`` without sshd. Requests are counted by the emulator, which proves the cache.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid

import httpx
import yaml
from ansible.release import __version__ as ANSIBLE_CORE_VERSION  # the core whose ansible-inventory these tests run

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import unwrap_unsafe  # noqa: E402

DEMO = ("demo@example.com", "demo-password-1")
LIST_ROUTE = "GET /api/v1/retail-points"
ANSIBLE_CORE = tuple(int(part) for part in ANSIBLE_CORE_VERSION.split(".")[:2])


class Estate(object):
    """Points of one test in the demo account: two on one register, one on another, one pending, one inactive."""

    def __init__(self, cabinet):
        self.cabinet = cabinet
        self.tag = uuid.uuid4().hex[:6]
        self.serials = ["SN-INV-%s-1" % self.tag.upper(), "SN-INV-%s-2" % self.tag.upper()]
        self.names = {
            "two_a": "Инв-%s Москва, Тверская 1" % self.tag,
            "two_b": "Инв-%s Москва, Тверская 1 (кафе)" % self.tag,
            "one": "Инв-%s Kazan 5" % self.tag,
            "pending": "Инв-%s Kiosk" % self.tag,
            "stray": "Инв-%s Old shop" % self.tag,
        }
        self.ids = {}
        with cabinet.api(*DEMO) as api:
            for key, name in self.names.items():
                body = {"id": str(uuid.uuid4()), "name": name, "inn": "7707083893",
                        "settings": {"defaultTaxMode": "PATENT" if key == "one" else "COMMON",
                                     "egaisSettings": {"kpp": "773601001"}}}
                api.post("/api/v1/retail-points", json=body).raise_for_status()
                self.ids[key] = body["id"]
            for key, serial in (("two_a", self.serials[0]), ("two_b", self.serials[0]), ("one", self.serials[1])):
                self._activate(api, self.ids[key], serial)
            self.pending_code = self._issue(api, self.ids["pending"])

    @staticmethod
    def _issue(api, point_id):
        code = "%08d" % random.randrange(10 ** 8)
        api.put("/api/v1/retail-point/%s" % point_id, json={"posLinkToken": code}).raise_for_status()
        return code

    def _activate(self, api, point_id, serial):
        code = self._issue(api, point_id)
        httpx.post(self.cabinet.url + "/api/device/v1/activate", timeout=10,
                   json={"code": code, "serial": serial, "model": "MSPOS-K", "appVersion": "1.2.0"}).raise_for_status()

    def group(self, key):
        return "point_" + "_".join(part for part in "".join(
            c if c.isalnum() else " " for c in self.names[key].lower()).split())


def _inventory(ansible_env, tmp_path, config, env=None, args=("--list",), name="estate.cabinet.yml"):
    source = tmp_path / name
    source.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run_env = dict(ansible_env)
    run_env.update(env or {})
    process = subprocess.run([sys.executable, "-m", "ansible.cli.inventory", "-i", str(source)] + list(args),
                             cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=120, check=False)
    return process


def _env(cabinet, password=DEMO[1]):
    return {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": password,
            # only this plugin: its failure is then the one message, not followed by yaml/ini's attempts
            "ANSIBLE_INVENTORY_ENABLED": "modulkassa.pos.cabinet", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}


def test_groups_per_point_and_state_hosts_per_register_constructed_and_unmanaged(cabinet, ansible_env, tmp_path):
    estate = Estate(cabinet)
    declared = tmp_path / "group_vars" / "all"
    declared.mkdir(parents=True)
    # One name in other letter case and spacing: names are compared as everywhere (point_name_key).
    (declared / "retail_points.yml").write_text(yaml.safe_dump({"modulkassa_points": [
        {"name": estate.names["two_a"]}, {"name": estate.names["two_b"]}, {"name": " %s " % estate.names["one"].upper()}]
        + [{"id": estate.ids["pending"]}]},
        allow_unicode=True), encoding="utf-8")
    config = {
        "plugin": "modulkassa.pos.cabinet",
        "declared_points_files": ["group_vars/*/retail_points.yml"],
        "compose": {"ansible_host": "modulkassa_register_serial | lower ~ '.registers.example.net'"},
        "keyed_groups": [{"key": "modulkassa_cabinet_points | map(attribute='tax_mode') | unique | list",
                          "prefix": "tax"}],
        "groups": {"serves_two": "modulkassa_cabinet_point_names | length > 1"},
    }
    process = _inventory(ansible_env, tmp_path, config, env=_env(cabinet))
    assert process.returncode == 0, process.stderr
    data = unwrap_unsafe(json.loads(process.stdout))
    hostvars = data["_meta"]["hostvars"]
    first, second = estate.serials

    # One group per point, holding the registers that serve it; the pending and the stray point are empty groups.
    assert data[estate.group("two_a")]["hosts"] == [first] and data[estate.group("two_b")]["hosts"] == [first]
    assert data[estate.group("one")]["hosts"] == [second]
    groups = [estate.group(k) for k in estate.names]
    assert set(groups) <= set(data["modulkassa_retail_points"]["children"])
    assert estate.group("pending") in data["modulkassa_points_pending"]["children"]
    assert estate.group("stray") in data["modulkassa_points_inactive"]["children"]
    assert {estate.group(k) for k in ("two_a", "two_b", "one")} <= set(data["modulkassa_points_active"]["children"])
    # Unmanaged: in the cabinet, not in the git data (the pending point is declared by id).
    mine = set(groups)
    assert mine & set(data["modulkassa_points_unmanaged"]["children"]) == {estate.group("stray")}
    assert mine & set(data["modulkassa_points_managed"]["children"]) == mine - {estate.group("stray")}

    # Registers are hosts named by serial, with the points they hold; compose and keyed_groups apply to them.
    assert {first, second} <= set(data["modulkassa_registers"]["hosts"])
    assert hostvars[first]["modulkassa_cabinet_point_names"] == sorted([estate.names["two_a"], estate.names["two_b"]])
    assert hostvars[first]["ansible_host"] == first.lower() + ".registers.example.net"
    assert hostvars[second]["modulkassa_register_app_version"] == "1.2.0"
    point = hostvars[second]["modulkassa_cabinet_points"][0]
    assert (point["id"], point["inn"], point["tax_mode"], point["managed"]) == (estate.ids["one"], "7707083893", "PATENT", True)
    assert second in data["tax_PATENT"]["hosts"] and first in data["tax_COMMON"]["hosts"]
    assert first in data["serves_two"]["hosts"] and second not in data["serves_two"]["hosts"]
    assert estate.pending_code not in process.stdout + process.stderr


def test_the_cache_serves_the_second_run_without_a_request(cabinet, ansible_env, tmp_path):
    estate = Estate(cabinet)
    cache_dir = tmp_path / "cache"
    config = {"plugin": "modulkassa.pos.cabinet", "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": str(cache_dir), "cache_timeout": 600}
    cabinet.reset_counters()
    first = _inventory(ansible_env, tmp_path, config, env=_env(cabinet))
    assert first.returncode == 0, first.stderr
    assert cabinet.counters(DEMO[0]).get(LIST_ROUTE) == 1
    second = _inventory(ansible_env, tmp_path, config, env=_env(cabinet))
    assert second.returncode == 0, second.stderr
    assert cabinet.counters(DEMO[0]).get(LIST_ROUTE) == 1, "the second run asked the cabinet"
    assert unwrap_unsafe(json.loads(second.stdout)) == unwrap_unsafe(json.loads(first.stdout))
    cached = "".join(p.read_text(encoding="utf-8") for p in cache_dir.iterdir())
    assert estate.ids["one"] in cached and estate.pending_code not in cached and "posLinkToken" not in cached
    if ANSIBLE_CORE >= (2, 19):
        flushed = _inventory(ansible_env, tmp_path, config, env=_env(cabinet), args=("--list", "--flush-cache"))
    else:  # ansible-inventory has no --flush-cache before 2.19; ansible-playbook's flushes the same inventory cache
        (tmp_path / "noop.yml").write_text("- hosts: localhost\n  gather_facts: false\n  tasks: []\n", encoding="utf-8")
        run_env = dict(ansible_env, **_env(cabinet))
        flushed = subprocess.run([sys.executable, "-m", "ansible.cli.playbook", "-i", str(tmp_path / "estate.cabinet.yml"),
                                  "--flush-cache", str(tmp_path / "noop.yml")], cwd=tmp_path, env=run_env,
                                 capture_output=True, text=True, timeout=120, check=False)
    assert flushed.returncode == 0, flushed.stderr
    assert cabinet.counters(DEMO[0]).get(LIST_ROUTE) == 2


def test_a_wrong_password_is_one_clean_error_without_the_password(cabinet, ansible_env, tmp_path):
    password = "wrong-password-%s" % uuid.uuid4().hex[:6]
    cabinet.reset_counters()
    process = _inventory(ansible_env, tmp_path, {"plugin": "modulkassa.pos.cabinet"},
                         env=_env(cabinet, password=password), args=("--list", "-vvvv"))
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert "the cabinet refused the credentials" in " ".join(output.split())  # cores before 2.19 wrap warnings
    if ANSIBLE_CORE >= (2, 19):
        assert "Traceback" not in output
    else:  # at -vvv and more, older cores print the traceback of a failed inventory source: ours, never a chained one
        assert "During handling of the above exception" not in output and "The above exception" not in output
    assert password not in output
    assert cabinet.counters("<anonymous>").get(LIST_ROUTE) == 1, "a refused login is not retried"


def test_registers_are_in_health_groups_by_what_the_cabinet_says(cabinet, ansible_env, tmp_path):
    """kktStatus and registrationRequestStatus set with the emulator on points that registers hold (bound through the
    device API): each register lands in its states' groups and, when in trouble, in health_trouble."""
    estate = Estate(cabinet)
    tag = estate.tag.upper()
    states = {  # serial -> (kktStatus, registrationRequestStatus) of the point it holds
        "SN-HLT-%s-OK" % tag: ("REGISTERED", "REGISTERED"),
        "SN-HLT-%s-APP" % tag: ("POS_VERSION_OUTDATED", None),
        "SN-HLT-%s-FZ54" % tag: ("KKT_NOT_ENABLED_FOR_FZ54", None),
        "SN-HLT-%s-FN" % tag: ("FN_NOT_PLUGGED", None),
        "SN-HLT-%s-FNS" % tag: ("NOT_REGISTERED", None),
        "SN-HLT-%s-WAIT" % tag: ("NOT_REGISTERED", "OFD_WAIT_RNM"),
        "SN-HLT-%s-REFUSED" % tag: ("REGISTERED", "ERROR"),
        "SN-HLT-%s-PRINT" % tag: ("NOT_REGISTERED", "REPORT_PRINT_ERROR"),
    }
    with cabinet.api(*DEMO) as api:
        for serial, (kkt, registration) in states.items():
            point_id = str(uuid.uuid4())
            api.post("/api/v1/retail-points", json={"id": point_id, "name": "Здоровье-%s %s" % (estate.tag, serial),
                                                    "inn": "500100732259"}).raise_for_status()
            estate._activate(api, point_id, serial)
            cabinet.set_health(point_id, kkt_status=kkt, registration_status=registration)
    process = _inventory(ansible_env, tmp_path, {"plugin": "modulkassa.pos.cabinet"}, env=_env(cabinet))
    assert process.returncode == 0, process.stderr
    data = unwrap_unsafe(json.loads(process.stdout))

    def members(group):
        return set(data.get(group, {}).get("hosts", [])) & set(states)

    serial = dict((key, "SN-HLT-%s-%s" % (tag, key)) for key in ("OK", "APP", "FZ54", "FN", "FNS", "WAIT", "REFUSED",
                                                                  "PRINT"))
    assert members("health_trouble") == set(serial[k] for k in ("APP", "FZ54", "FN", "FNS", "REFUSED", "PRINT"))
    assert members("health_pos_version_outdated") == {serial["APP"]}
    assert members("health_kkt_not_enabled_for_fz54") == {serial["FZ54"]}
    assert members("health_fn_not_plugged") == {serial["FN"]}
    assert members("health_not_registered") == {serial["FNS"]}  # not WAIT nor PRINT: their registration says more
    assert members("health_registration_ofd_wait_rnm") == {serial["WAIT"]}  # under way: a group, not trouble
    assert members("health_registration_error") == {serial["REFUSED"]}
    assert members("health_registration_report_print_error") == {serial["PRINT"]}
    for group in [g for g in data if g.startswith("health_")]:
        assert serial["OK"] not in data[group].get("hosts", []), group
    hostvars = data["_meta"]["hostvars"]
    health = hostvars[serial["FN"]]["modulkassa_register_health"]
    assert (health["severity"], health["trouble"]) == ("critical", True)
    assert [(f["field"], f["state"]) for f in health["findings"]] == [("kkt_status", "FN_NOT_PLUGGED")]
    assert "insert or replace the ФН" in health["findings"][0]["action"]
    assert hostvars[serial["WAIT"]]["modulkassa_register_health"]["severity"] == "info"
    assert hostvars[serial["OK"]]["modulkassa_register_health"] == {"severity": "ok", "trouble": False, "findings": []}
    point = hostvars[serial["REFUSED"]]["modulkassa_cabinet_points"][0]
    assert (point["kkt_status"], point["registration_status"]) == ("REGISTERED", "ERROR")
