# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleet as code, end to end: playbooks/site.yml and audit.yml against the emulator and real sshd registers,
and the validation that guards them.

* site.yml converges a fleet from empty (points, SSH registers, a register without SSH whose code goes to the
  sealed file), a second run reports changed=0 on every host, audit.yml reports no change and writes nothing;
  audit.yml from empty warns instead of failing, and after a change in the data it reports exactly that drift.
* A corpus of bad fleet data, one case per rule: site.yml stops at validation with the field path, and the
  emulator counts zero requests of any kind (the credentials are there; nothing uses them).
* inventories/example passes validation (run as modulkassa.pos.validate) without credentials, and
  ansible-inventory --graph.

Writes are counted over every login and the device API, not only the account's.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time
import uuid

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import published_drift_summary, with_run_stats  # noqa: E402
from reliability_helpers import descendants  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(REPO_ROOT, "playbooks", "site.yml")
AUDIT = os.path.join(REPO_ROOT, "playbooks", "audit.yml")
VALIDATE = os.path.join(REPO_ROOT, "playbooks", "validate.yml")
REGISTERS = os.path.join(REPO_ROOT, "playbooks", "registers.yml")
RELEASE_ALL = yaml.safe_dump([{"name": "release", "hosts": "registers", "gather_facts": False, "tasks": [
    {"name": "release", "modulkassa.pos.register": {"retail_points": [], "exclusive": True}}]}])
EXAMPLE = os.path.join(REPO_ROOT, "inventories", "example")
DEMO = ("demo@example.com", "demo-password-1")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

POINTS_TASK = "modulkassa.pos.retail_points : Retail points are as declared (one call for the whole chain)"
REGISTER_TASK = "modulkassa.pos.registers : The register serves its declared points"
MANUAL_TASK = "modulkassa.pos.retail_points : Points of registers without SSH are active or have a pending code in the sealed file"
VALIDATE_TASK = "The fleet data is valid"
UNFINISHED_TASK = 'A run that stops part-way publishes an unfinished summary (status error), never "no drift"'
FAILED_POINTS_TASK = "Every retail point was written"
# site.yml runs the registers role's failed-points check in its first registers play, outside the role (D42).
UNCONVERGED_TASK = "The register's points were converged in this run"
LIST_TASK = "modulkassa.pos.registers : List the cabinet's points once for every register of the play"


def _env(cabinet):
    return {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1]}


def _requests(cabinet, methods=None):
    """Requests of every login (and the device API, and failed auth) since the last reset."""
    return sum(n for per_login in cabinet.counters().values() for key, n in per_login.items()
               if methods is None or key.split(" ", 1)[0] in methods)


def _write_inventory(directory, files):
    for relative, data in files.items():
        path = os.path.join(directory, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            if isinstance(data, str):
                out.write(data)
            else:
                yaml.safe_dump(data, out, allow_unicode=True, sort_keys=False)
    return str(directory)


def _point(cabinet, point_id):
    with cabinet.api(*DEMO) as api:
        response = api.get("/api/v1/retail-point/%s" % point_id)
    return response.json() if response.status_code == 200 else None


def _holder(point):
    if (point.get("kktStatus") or "KKT_NOT_PLUGGED") == "KKT_NOT_PLUGGED":
        return None
    return (point.get("kkmInfo") or {}).get("serialNumber")


def _by_host(run, task):
    return dict((t["host"], t) for t in run.tasks if t["task"] == task)


# ---- site.yml and audit.yml on the sandbox ----------------------------------------------------------------

def _sandbox_fleet(tag, code_file):
    tverskaya = {"name": "%s Тверская 1" % tag, "address": "г. Москва, ул. Тверская, д. 1", "phone": "+7 495 123-45-01",
                 "inn": "7707083893", "kpp": "773601001", "tax_mode": "COMMON", "vat_tag": 1102,
                 "fiscal_service_enabled": False}
    points = [
        tverskaya,
        dict(tverskaya, name="%s Тверская 1, кафе" % tag, vat_tag=1103),
        # Declared with its id (a point created elsewhere): reg02 refers to it by id.
        {"id": str(uuid.uuid4()), "name": "%s Невский 28" % tag, "inn": "7814148471", "kpp": "781401001",
         "tax_mode": "SIMPLIFIED", "vat_tag": 1105},
        {"name": "%s Баумана 5" % tag, "phone": "8 (843) 200-05-05", "inn": "500100732259", "tax_mode": "PATENT",
         "vat_tag": 1105},
        # The register without SSH names it by id, in upper case (the cabinet answers ids in lower case).
        {"id": str(uuid.uuid4()).upper(), "name": "%s Киоск" % tag, "inn": "6663003127", "kpp": "666301001"},
    ]
    return {
        "group_vars/all/fleet.yml": {
            "modulkassa_points_purge": False,  # other tests' points live in the same account
            "modulkassa_points": points,
            "modulkassa_manual_registers": [{"name": "kiosk", "retail_points": [points[4]["id"]]}],
            "modulkassa_code_file": code_file,
        },
        "host_vars/reg01.yml": {"modulkassa_register_points": [points[0]["name"], points[1]["name"]]},
        "host_vars/reg02.yml": {"modulkassa_register_points": [points[2]["id"]]},
        "host_vars/reg03.yml": {"modulkassa_register_points": [points[3]["name"]]},
    }, points


@pytest.fixture
def leave_registers_empty(cabinet, registers, run_playbook):
    """The register hosts are shared by the worker's tests: a test that binds them releases everything after,
    unless it ended by doing so itself (``state["released"] = True``). It also starts from empty registers: a test
    of another module on the same worker may have left a binding behind."""
    run_playbook(RELEASE_ALL, inventory=registers.inventory, env=_env(cabinet))
    state = {"released": False}
    yield state
    if not state["released"]:
        run_playbook(RELEASE_ALL, inventory=registers.inventory, env=_env(cabinet))


@pytest.mark.slow
def test_site_converges_then_is_idempotent_and_audit_writes_nothing(cabinet, registers, run_playbook, tmp_path,
                                                                    leave_registers_empty):
    tag = "Fleet-%s" % uuid.uuid4().hex[:6]
    code_file = str(tmp_path / "sealed" / "codes.json")
    files, points = _sandbox_fleet(tag, code_file)
    with open(registers.inventory, encoding="utf-8") as handle:
        files["registers.yml"] = handle.read()  # the register hosts (real sshd) with their agent paths
    hosts = sorted(registers.hosts)  # reg01.. (the harness starts at least 4)
    for host in hosts[3:]:
        files["host_vars/%s.yml" % host] = {"modulkassa_register_points": []}  # serves nothing: what it holds is released
    inventory = _write_inventory(tmp_path / "inventory", files)
    env = _env(cabinet)

    def digests():
        return dict((host, registers.state_digest(host)) for host in hosts)

    # 1. audit from empty: the points do not exist yet; the registers' bindings are predicted with a warning.
    before = digests()
    cabinet.reset_counters()
    stats_file = tmp_path / "run-stats.json"
    run = run_playbook(AUDIT, inventory=inventory, env=with_run_stats(env, stats_file))
    assert run.rc == 0, run.output_tail()
    assert _requests(cabinet, WRITE_METHODS) == 0, cabinet.counters()
    assert digests() == before, "the audit touched a register"
    # What AWX gets (set_stats): the verdict and one entry per object that would change.
    published = published_drift_summary(stats_file)
    assert (published["finished"], published["mode"], published["status"], published["exit_code"]) == (
        True, "check", "drift", 2), published
    assert published["summary"]["retail_points"]["create"] == 5
    assert sorted(p["name"] for p in published["retail_points"] if p["verdict"] == "create") == sorted(
        p["name"] for p in points)
    assert [(r["host"], r["verdict"]) for r in published["registers"]] == [(h, "changed") for h in hosts[:3]]
    assert run.result(POINTS_TASK)["summary"]["create"] == 5
    tasks = _by_host(run, REGISTER_TASK)
    for host in ("reg01", "reg02", "reg03"):
        assert tasks[host]["status"] == "changed", tasks[host]
        assert any("does not exist in the cabinet" in w for w in tasks[host]["result"]["warnings"]), tasks[host]
    assert _by_host(run, MANUAL_TASK)["localhost"]["result"]["results"][0]["code_issued"] is True
    assert not os.path.exists(os.path.dirname(code_file)), "the audit created the sealed file's directory"
    assert run.stats["localhost"]["changed"] == 2, "only the points and the code to issue are drift"
    # The registers' points came from one list of the cabinet for the whole play, not one per register.
    assert [t["host"] for t in run.tasks if t["task"] == LIST_TASK] == ["reg01"]

    # 2. converge from empty
    run = run_playbook(SITE, inventory=inventory, env=env)
    assert run.rc == 0, run.output_tail()
    assert run.stats["localhost"]["changed"] >= 2 and all(run.stats[h]["changed"] == 1 for h in hosts[:3])
    serial = registers.serial
    ids = [_by_name(run, p["name"]) for p in points]
    assert ids[2] == points[2]["id"] and ids[4] == points[4]["id"].lower()
    actual = [_point(cabinet, i) for i in ids]
    assert [_holder(p) for p in actual] == [serial("reg01"), serial("reg01"), serial("reg02"), serial("reg03"), None]
    assert actual[0]["phone"] == "4951234501" and actual[1]["settings"]["defaultVatTag"] == 1103
    assert actual[3]["inn"] == "500100732259" and not (actual[3]["settings"].get("egaisSettings") or {}).get("kpp")
    # The register without SSH: a pending code, in the sealed file only.
    assert actual[4]["posLinkToken"]
    sealed = json.loads(open(code_file, encoding="utf-8").read())
    assert sealed[points[4]["name"]]["code"] == actual[4]["posLinkToken"]
    assert stat.S_IMODE(os.stat(code_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(code_file)).st_mode) == 0o700
    assert actual[4]["posLinkToken"] not in run.stdout + run.stderr + json.dumps(run.tasks)

    # 3. converge again: nothing to do anywhere
    cabinet.reset_counters()
    run = run_playbook(SITE, inventory=inventory, env=env)
    assert run.rc == 0, run.output_tail()
    assert dict((h, s["changed"]) for h, s in run.stats.items()) == dict((h, 0) for h in ["localhost"] + hosts)
    assert _requests(cabinet, WRITE_METHODS) == 0, cabinet.counters()
    assert json.loads(open(code_file, encoding="utf-8").read()) == sealed, "a pending code was replaced"

    # 4. audit: no drift, no write, registers untouched
    before = digests()
    cabinet.reset_counters()
    run = run_playbook(AUDIT, inventory=inventory, env=with_run_stats(env, stats_file))
    assert run.rc == 0, run.output_tail()
    published = published_drift_summary(stats_file)
    assert (published["status"], published["exit_code"], published["retail_points"], published["registers"]) == (
        "no_drift", 0, [], []), published
    assert published["summary"]["retail_points"]["unchanged"] == 5
    assert published["summary"]["registers"]["unchanged"] == len(hosts)
    assert dict((h, s["changed"]) for h, s in run.stats.items()) == dict((h, 0) for h in ["localhost"] + hosts)
    assert _requests(cabinet, WRITE_METHODS) == 0 and digests() == before
    assert _requests(cabinet) > 0, "the audit did not read the cabinet at all"

    # 5. the data changes (a phone; Баумана 5 moves from reg03 to reg04): the audit names exactly that.
    files["group_vars/all/fleet.yml"]["modulkassa_points"][0]["phone"] = "+7 495 765-43-21"
    files["host_vars/reg03.yml"] = {"modulkassa_register_points": []}
    files["host_vars/reg04.yml"] = {"modulkassa_register_points": [points[3]["name"]]}
    _write_inventory(tmp_path / "inventory", files)
    cabinet.reset_counters()
    run = run_playbook(AUDIT, inventory=inventory, env=with_run_stats(env, stats_file))
    assert run.rc == 0, run.output_tail()
    published = published_drift_summary(stats_file)
    assert (published["status"], published["summary"]["changes"]) == ("drift", 3), published
    assert [(p["name"], p["verdict"]) for p in published["retail_points"]] == [(points[0]["name"], "update")]
    assert [(r["host"], r["verdict"]) for r in published["registers"]] == [("reg03", "changed"), ("reg04", "changed")]
    assert DEMO[1] not in json.dumps(published)
    expected = dict((h, 0) for h in hosts)
    expected.update(localhost=1, reg03=1, reg04=1)
    assert dict((h, s["changed"]) for h, s in run.stats.items()) == expected
    plan = run.result(POINTS_TASK)["results"]
    assert [(r["name"], r["changed_fields"]) for r in plan if r["action"] != "unchanged"] == [(points[0]["name"], ["phone"])]
    moves = _by_host(run, REGISTER_TASK)
    assert [a["action"] for a in moves["reg03"]["result"]["actions"]] == ["unbind"]
    assert [(a["action"], a["previous_register"]) for a in moves["reg04"]["result"]["actions"]] == [("rebind", serial("reg03"))]
    assert _requests(cabinet, WRITE_METHODS) == 0

    # 6. the registers are retired from the data: registers.yml alone releases every binding.
    for host in hosts:
        files["host_vars/%s.yml" % host] = {"modulkassa_register_points": []}
    _write_inventory(tmp_path / "inventory", files)
    run = run_playbook(REGISTERS, inventory=inventory, env=env)
    assert run.rc == 0, run.output_tail()
    assert sorted(h for h, s in run.stats.items() if s["changed"]) == ["reg01", "reg02", "reg03"]
    assert [_holder(_point(cabinet, i)) for i in ids] == [None] * 5
    leave_registers_empty["released"] = True


def _by_name(run, name):
    return [r["id"] for r in run.result(POINTS_TASK)["results"] if r["name"] == name][0]


# ---- the roles' cabinet settings: the play's module_defaults, or fleet variables ---------------------------

LIST_REQUESTS = "GET /api/v1/retail-points"
ROLES_PLAYBOOK = """\
- name: Retail points
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/modulkassa.pos.cabinet: &cabinet {cabinet}
  roles:
    - role: modulkassa.pos.retail_points

- name: Registers
  hosts: registers
  gather_facts: false
  module_defaults:
    group/modulkassa.pos.cabinet: *cabinet
  roles:
    - role: modulkassa.pos.registers
"""


POINTS_ROLE_PLAYBOOK = """
- name: Retail points, with no validation play before the role
  hosts: localhost
  gather_facts: false
  roles:
    - role: modulkassa.pos.retail_points
"""


def _small_fleet(registers, tmp_path, tag, extra_vars=None):
    """Two points: one served by reg01 over SSH, one by a register without SSH (its code to the sealed file)."""
    points = [{"name": "%s Тверская 1" % tag, "inn": "7707083893", "kpp": "773601001"},
              {"name": "%s Киоск" % tag, "phone": "+7 495 123-45-02"}]
    fleet = {"modulkassa_points_purge": False, "modulkassa_points": points,
             "modulkassa_manual_registers": [{"name": "kiosk", "retail_points": [points[1]["name"]]}],
             "modulkassa_code_file": str(tmp_path / "sealed" / "codes.json")}
    fleet.update(extra_vars or {})
    with open(registers.inventory, encoding="utf-8") as handle:
        files = {"registers.yml": handle.read(), "group_vars/all/fleet.yml": fleet}
    for host in registers.hosts:
        files["host_vars/%s.yml" % host] = {"modulkassa_register_points": [points[0]["name"]] if host == "reg01" else []}
    return _write_inventory(tmp_path / "inventory", files), points


def test_the_roles_use_the_plays_module_defaults_and_its_timeout_and_retries(cabinet, registers, run_playbook, tmp_path,
                                                                            leave_registers_empty):
    """The connection comes only from the play's group/modulkassa.pos.cabinet defaults (no MODULKASSA_* variable,
    no modulkassa_url): every plugin the roles call gets it. Its timeout and retries apply too: with the cabinet
    answering after 2.5 s, a 1 s timeout fails the points play fast, after 1 + retries list requests."""
    inventory, points = _small_fleet(registers, tmp_path, "MD-%s" % uuid.uuid4().hex[:6])
    cabinet_defaults = {"cabinet_url": cabinet.url, "cabinet_login": DEMO[0], "cabinet_password": DEMO[1]}
    run = run_playbook(ROLES_PLAYBOOK.format(cabinet=json.dumps(cabinet_defaults)), inventory=inventory)
    assert run.rc == 0, run.output_tail()
    assert {t["action"] for t in run.tasks if t["action"].startswith("modulkassa.pos.")} == {
        "modulkassa.pos.retail_points", "modulkassa.pos.retail_point", "modulkassa.pos.retail_point_info",
        "modulkassa.pos.register", "modulkassa.pos.bindings_audit"}
    ids = dict((r["name"], r["id"]) for r in run.result(POINTS_TASK)["results"])
    assert _holder(_point(cabinet, ids[points[0]["name"]])) == registers.serial("reg01")
    assert _point(cabinet, ids[points[1]["name"]])["posLinkToken"], "the manual register's point has no pending code"

    cabinet.knobs(latency_ms=2500)
    cabinet.reset_counters()
    slow = dict(cabinet_defaults, timeout=1, retries=1)
    run = run_playbook(ROLES_PLAYBOOK.format(cabinet=json.dumps(slow)), inventory=inventory, timeout=120)
    cabinet.knobs(latency_ms=0)
    assert run.rc != 0
    failed = run.result(POINTS_TASK)
    assert failed["failed"] and "failed after 2 attempts" in failed["msg"] and "timeout 1 s" in failed["msg"], failed
    assert cabinet.counters(DEMO[0]) == {LIST_REQUESTS: 2}, "1 + retries list requests, then nothing"


def test_the_fleet_sets_the_roles_timeout_retries_and_concurrency(cabinet, registers, run_playbook, tmp_path):
    """modulkassa_timeout and modulkassa_retries (group_vars/all) reach the plugins through site.yml; they win over
    the plugins' defaults (30 s, 3 retries), so a cabinet answering after 2.5 s fails after 1 + 2 attempts of 1 s.
    modulkassa_points_concurrency reaches retail_points (out of range there: the plugin itself says so)."""
    inventory, points = _small_fleet(registers, tmp_path, "FV-%s" % uuid.uuid4().hex[:6],
                                     {"modulkassa_timeout": 1, "modulkassa_retries": 2})
    cabinet.knobs(latency_ms=2500)
    cabinet.reset_counters()
    run = run_playbook(SITE, inventory=inventory, env=_env(cabinet), timeout=120)
    cabinet.knobs(latency_ms=0)
    assert run.rc != 0
    failed = run.result(POINTS_TASK)
    assert failed["failed"] and "failed after 3 attempts" in failed["msg"] and "timeout 1 s" in failed["msg"], failed
    assert cabinet.counters(DEMO[0]) == {LIST_REQUESTS: 3}
    assert _requests(cabinet, WRITE_METHODS) == 0

    inventory, points = _small_fleet(registers, tmp_path, "FC-%s" % uuid.uuid4().hex[:6],
                                     {"modulkassa_points_concurrency": 65})
    cabinet.reset_counters()
    # The collection's playbook validates first: the fleet variable is refused by name, before any request.
    run = run_playbook(os.path.join(REPO_ROOT, "playbooks", "retail_points.yml"), inventory=inventory, env=_env(cabinet))
    refused = run.result(VALIDATE_TASK)
    assert run.rc != 0 and refused["errors"] == [
        {"path": "modulkassa_points_concurrency", "message": "must be at most 64, not 65"}], refused
    # The role alone (a chain's own playbook without validation): the variable reaches the plugin, which says so.
    run = run_playbook(POINTS_ROLE_PLAYBOOK, inventory=inventory, env=_env(cabinet))
    failed = run.result(POINTS_TASK)
    assert run.rc != 0 and failed["field"] == "concurrency" and "between 1 and 64" in failed["msg"], failed
    assert _requests(cabinet) == 0


# ---- bad data stops before any request ---------------------------------------------------------------------

def _base_fleet():
    points = [
        {"name": "Shop 1", "address": "Moscow", "phone": "+7 495 123-45-67", "inn": "7707083893", "kpp": "773601001",
         "tax_mode": "COMMON", "vat_tag": 1102},
        {"name": "Shop 1 cafe", "inn": "7707083893", "kpp": "773601001"},
        {"name": "Kazan 5", "inn": "500100732259", "tax_mode": "PATENT", "vat_tag": 1105},
    ]
    return {
        "hosts.yml": {"all": {"children": {"registers": {"children": {"moscow": {"hosts": {
            "reg01": {"ansible_host": "192.0.2.1"}, "reg02": {"ansible_host": "192.0.2.2"}}}, "kazan": {"hosts": {
                "reg03": {"ansible_host": "203.0.113.3"}}}}}}}},
        "group_vars/all/fleet.yml": {"modulkassa_points_purge": False, "modulkassa_points": points},
        "host_vars/reg01.yml": {"modulkassa_register_points": ["Shop 1", "Shop 1 cafe"]},
        "host_vars/reg02.yml": {"modulkassa_register_points": []},
        "host_vars/reg03.yml": {"modulkassa_register_points": ["Kazan 5"]},
    }


def _points(files):
    return files["group_vars/all/fleet.yml"]["modulkassa_points"]


# One case per rule: (how the data is broken, the field path reported, a fragment of the message).
BAD_FLEETS = {
    "wrong-type": (lambda f: _points(f)[0].update(inn=7707083893), "modulkassa_points[0].inn", "must be a string"),
    "unknown-key": (lambda f: _points(f)[1].update(adress="Moscow"), "modulkassa_points[1].adress",
                    "did you mean 'address'"),
    "inn-checksum": (lambda f: _points(f)[0].update(inn="7707083894"), "modulkassa_points[0].inn", "INN checksum"),
    "kpp-format": (lambda f: _points(f)[1].update(kpp="7736-01"), "modulkassa_points[1].kpp", "9 characters"),
    "phone": (lambda f: _points(f)[0].update(phone="+7 495 12"), "modulkassa_points[0].phone", "10-digit phone"),
    "kpp-with-12-digit-inn": (lambda f: _points(f)[2].update(kpp="165501001"), "modulkassa_points[2].kpp",
                              "must be empty when inn has 12 digits"),
    "tax-mode": (lambda f: _points(f)[0].update(tax_mode="USN"), "modulkassa_points[0].tax_mode", "must be one of"),
    "duplicate-name": (lambda f: _points(f).append({"id": str(uuid.uuid4()), "name": "Shop 1"}) or
                       _points(f)[0].update(id=str(uuid.uuid4())), "modulkassa_points[3].name", "duplicate point name"),
    "duplicate-name-other-case": (lambda f: _points(f).append({"name": " shop  1 cafe"}), "modulkassa_points[3]",
                                  'also at modulkassa_points[1]: name "shop  1 cafe" here, "Shop 1 cafe" there'),
    "declared-twice-differently": (lambda f: _points(f).append(dict(_points(f)[2], vat_tag=1102)),
                                   "modulkassa_points[3]", "declared twice with different attributes"),
    "undeclared-point": (lambda f: f.update({"host_vars/reg02.yml": {"modulkassa_register_points": ["Kazan 6"]}}),
                         "hosts.reg02.modulkassa_register_points[0]", "does not declare (did you mean 'Kazan 5'?)"),
    "two-registers-one-point": (lambda f: f.update({"host_vars/reg02.yml": {"modulkassa_register_points": ["Kazan 5"]}}),
                                "hosts.reg03.modulkassa_register_points[0]", "also served by hosts.reg02"),
    "register-without-points": (lambda f: f.update({"host_vars/reg03.yml": {"modulkassa_register_point": ["Kazan 5"]}}),
                                "hosts.reg03.modulkassa_register_point", "did you mean 'modulkassa_register_points'"),
    "group-overrides-controller": (lambda f: f.update({"group_vars/kazan.yml": {"modulkassa_points": [_points(f)[2]]}}),
                                   "hosts.reg03.modulkassa_points", "never be applied"),
    "manual-register-without-code-file": (
        lambda f: f["group_vars/all/fleet.yml"].update(modulkassa_manual_registers=[
            {"name": "tablet", "retail_points": ["Shop 1 cafe"]}]) or f["host_vars/reg01.yml"].update(
            modulkassa_register_points=["Shop 1"]), "modulkassa_code_file", "is required when"),
    "cabinet-timeout": (lambda f: f["group_vars/all/fleet.yml"].update(modulkassa_timeout=0), "modulkassa_timeout",
                        "must be more than 0"),
    "points-concurrency": (lambda f: f["group_vars/all/fleet.yml"].update(modulkassa_points_concurrency=100),
                           "modulkassa_points_concurrency", "must be at most 64"),
    "cabinet-retries-typo": (lambda f: f["group_vars/all/fleet.yml"].update(modulkassa_retires=5), "modulkassa_retires",
                             "did you mean 'modulkassa_retries'"),
    # A bad name beside a point that no register serves (the summary once sorted None among names: a TypeError).
    "name-empty": (lambda f: _points(f).extend([{"name": "Shop 2"}, {"name": ""}]), "modulkassa_points[4].name",
                   "must not be empty"),
    "name-blank": (lambda f: _points(f).extend([{"name": "Shop 2"}, {"name": "   "}]), "modulkassa_points[4].name",
                   "must not be empty"),
    "name-number": (lambda f: _points(f).extend([{"name": "Shop 2"}, {"name": 5}]), "modulkassa_points[4].name",
                    "must be a string, not an integer"),
    "name-boolean": (lambda f: _points(f).extend([{"name": "Shop 2"}, {"name": True}]), "modulkassa_points[4].name",
                     "must be a string, not a boolean"),
    "undefined-variable": (lambda f: f.update({"host_vars/reg02.yml": "modulkassa_register_points: \"{{ kazan_points }}\"\n"}),
                           "hosts.reg02.modulkassa_register_points", "cannot be evaluated"),
}


@pytest.mark.parametrize("case", sorted(BAD_FLEETS))
def test_bad_fleet_fails_validation_with_the_path_and_no_request(case, cabinet, run_playbook, tmp_path):
    mutate, path, fragment = BAD_FLEETS[case]
    files = copy.deepcopy(_base_fleet())
    mutate(files)
    inventory = _write_inventory(tmp_path / "inventory", files)
    cabinet.reset_counters()
    stats_file = tmp_path / "run-stats.json"
    # credentials present: nothing may use them
    run = run_playbook(SITE, inventory=inventory, env=with_run_stats(_env(cabinet), stats_file))
    assert run.rc != 0
    assert [(t["task"], t["status"]) for t in run.tasks] == [(UNFINISHED_TASK, "ok"), (VALIDATE_TASK, "failed")], \
        run.output_tail()
    # AWX is told the run did not finish: an error, not "no drift".
    published = published_drift_summary(stats_file)
    assert (published["finished"], published["status"], published["exit_code"]) == (False, "error", 1), published
    errors = dict((e["path"], e["message"]) for e in run.result(VALIDATE_TASK)["errors"])
    assert path in errors, "expected %s, got %s" % (path, errors)
    assert fragment in errors[path], errors[path]
    assert path in run.result(VALIDATE_TASK)["msg"]
    assert _requests(cabinet) == 0, cabinet.counters()


def test_the_corpus_base_is_valid_and_validation_reads_nothing(cabinet, run_playbook, tmp_path):
    """Each bad case differs from this valid fleet by one change, so its failure is that change's."""
    inventory = _write_inventory(tmp_path / "inventory", _base_fleet())
    cabinet.reset_counters()
    run = run_playbook(VALIDATE, inventory=inventory, env=_env(cabinet))
    assert run.rc == 0, run.output_tail()
    assert run.result(VALIDATE_TASK)["errors"] == []
    assert _requests(cabinet) == 0, cabinet.counters()


# ---- an alias bomb is refused before anything expands it ----------------------------------------------------

# "Billion laughs": nine levels of ten aliases, about 1 KB of YAML that expands to a billion strings. It is one point's
# address; before the size guard, validation templated it (the templar copies every node) for minutes, past 1 GB.
BOMB = "\n".join(['laugh0: &l0 "lol lol lol lol lol"'] + [
    "laugh%d: &l%d [%s]" % (level, level, ", ".join(["*l%d" % (level - 1)] * 10)) for level in range(1, 10)]) + """
modulkassa_points_purge: false
modulkassa_points:
  - name: Shop 1
    address: *l9
  - name: Shop 2
"""
# Bounds that a regression (an expansion: minutes, gigabytes) breaks and a loaded 2-core machine does not (the
# refusal takes a few seconds and under 120 MB): the whole process tree's peak RSS, its CPU, its address space.
RSS_BOUND_MB = 500
CPU_BOUND_S = 60
ADDRESS_SPACE_BOUND = 3 * 1024 ** 3
WALL_BOUND_S = 240


def _bounded_playbook(command, env, cwd):
    """Run ansible-playbook under RLIMIT_AS and RLIMIT_CPU (inherited by its forks); returns (rc, output, peak RSS
    in MB of the process and every descendant it reaped: wait4's rusage)."""
    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BOUND, ADDRESS_SPACE_BOUND))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_BOUND_S, CPU_BOUND_S + 5))

    with open(os.path.join(cwd, "output.txt"), "w+") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=limits)
        deadline = time.monotonic() + WALL_BOUND_S
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                for child in [process.pid] + descendants(process.pid):  # the forks call setsid(): not in its group
                    try:
                        os.kill(child, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                pid, status, usage = os.wait4(process.pid, 0)
                pytest.fail("still running after %d s: %s" % (WALL_BOUND_S, " ".join(command)))
            time.sleep(0.2)
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        return process.returncode, output.read(), usage.ru_maxrss / 1024.0


def _bomb_inventory(tmp_path):
    return _write_inventory(tmp_path / "inventory", {
        "hosts.yml": {"all": {"children": {"registers": {"hosts": {"reg01": {"ansible_host": "192.0.2.1"}}}}}},
        "group_vars/all/fleet.yml": BOMB,
        "host_vars/reg01.yml": {"modulkassa_register_points": ["Shop 1"]},
    })


# In a points_file the bomb hides under a key the argument spec rejects: finding that, it deep-copies the list.
BOMB_POINTS_FILE = BOMB.replace("    address: *l9", "    notes: *l9")
POINTS_FILE_PLAY = yaml.safe_dump([{"name": "points_file", "hosts": "localhost", "gather_facts": False, "tasks": [
    {"name": "points from a file", "modulkassa.pos.retail_points": {"points_file": "fleet.yml"}}]}])


@pytest.mark.parametrize("playbook", ["validate", "site", "audit", "retail_points", "registers", "points_file"])
def test_an_alias_bomb_is_refused_naming_the_variable_within_bounds(playbook, cabinet, ansible_env, tmp_path):
    """A 1 KB file must not tie up a pull request's runner: validation (first in site and audit, with
    any_errors_fatal) and retail_points' points_file measure the expanded size without expanding it."""
    inventory = _bomb_inventory(tmp_path)
    if playbook == "points_file":
        (tmp_path / "fleet.yml").write_text(BOMB_POINTS_FILE, encoding="utf-8")
        (tmp_path / "play.yml").write_text(POINTS_FILE_PLAY, encoding="utf-8")
        path, expected = str(tmp_path / "play.yml"), "points_file: %s is too large" % (tmp_path / "fleet.yml")
    else:
        path, expected = os.path.join(REPO_ROOT, "playbooks", playbook + ".yml"), "modulkassa_points: is too large"
    results = tmp_path / "results.jsonl"
    env = dict(ansible_env, MK_TEST_RESULTS=str(results), **_env(cabinet))
    cabinet.reset_counters()
    rc, output, peak_mb = _bounded_playbook([sys.executable, "-m", "ansible.cli.playbook", "-i", inventory, path],
                                            env, str(tmp_path))
    assert rc == 2, output[-3000:]
    assert expected in output and "more than 500,000 values once its YAML aliases are expanded" in output, output[-3000:]
    assert peak_mb < RSS_BOUND_MB, "peak RSS %.0f MB" % peak_mb
    tasks = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    # Nothing but the unfinished drift summary (set_stats, first play of site and audit) ran before validation.
    assert [t["status"] for t in tasks if t.get("type") != "stats" and t.get("action") != "ansible.builtin.set_stats"] \
        == ["failed"], [(t.get("action"), t.get("status")) for t in tasks]
    assert _requests(cabinet) == 0, cabinet.counters()


# ---- the example chain -------------------------------------------------------------------------------------

def test_example_inventory_is_valid_without_credentials(ansible_env, tmp_path):
    """By the installed name (modulkassa.pos.validate), as a chain runs it; no MODULKASSA_* variable is set."""
    results = tmp_path / "results.jsonl"
    env = dict(ansible_env, MK_TEST_RESULTS=str(results))
    run = subprocess.run([sys.executable, "-m", "ansible.cli.playbook", "-i", EXAMPLE, "modulkassa.pos.validate"],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    summary = [r for r in records if r.get("task") == VALIDATE_TASK][0]["result"]["summary"]
    assert summary == {"points": 32, "points_absent": 0, "purge": False, "registers": 26, "manual_registers": 3,
                       "bindings": 32, "points_without_register": []}


def test_example_inventory_graph(ansible_env, tmp_path):
    graph = subprocess.run([sys.executable, "-m", "ansible.cli.inventory", "-i", EXAMPLE, "--graph"], cwd=str(tmp_path),
                           env=ansible_env, capture_output=True, text=True, timeout=120, check=False)
    assert graph.returncode == 0 and "WARNING" not in graph.stderr, graph.stderr
    lines = [line.strip(" |-") for line in graph.stdout.splitlines()]
    for region in ("moscow", "saint_petersburg", "kazan", "yekaterinburg", "novosibirsk"):
        assert "@%s:" % region in lines
    assert "@registers:" in lines
    assert len([line for line in lines if line and not line.startswith("@")]) == 26


# ---- a point that cannot be written stops only the registers that serve it ---------------------------------

PLAN = os.path.join(REPO_ROOT, "tools", "modulkassa-plan")


def test_a_point_that_cannot_be_written_stops_only_its_registers(cabinet, registers, run_playbook, ansible_env,
                                                                tmp_path, leave_registers_empty):
    """site.yml with one point whose write the cabinet refuses for good: its declared id belongs to a point of
    another account (409 on create, 404 on read: a copy-paste from the wrong cabinet). The registers whose points
    are in place converge in the same run; the register serving the refused point fails naming it and is left as
    it was; the last play fails the run naming it; the drift report and the set_stats summary call it an error,
    and tools/modulkassa-plan exits 1 on the next run too."""
    tag = "Part-%s" % uuid.uuid4().hex[:6]
    foreign_id = str(uuid.uuid4())
    with cabinet.api("other@example.com", "other-password-2") as api:
        assert api.post("/api/v1/retail-points", json={"id": foreign_id, "name": "%s elsewhere" % tag}).status_code == 200
    points = [{"name": "%s Тверская 1" % tag, "inn": "7707083893", "kpp": "773601001"},
              {"id": foreign_id, "name": "%s Невский 28" % tag},
              {"name": "%s Баумана 5" % tag, "inn": "500100732259"}]
    with open(registers.inventory, encoding="utf-8") as handle:
        files = {"registers.yml": handle.read(),
                 "group_vars/all/fleet.yml": {"modulkassa_points_purge": False, "modulkassa_points": points}}
    serves = {"reg01": [points[0]["name"]], "reg02": [points[1]["name"]], "reg03": [points[2]["name"]]}
    for host in registers.hosts:
        files["host_vars/%s.yml" % host] = {"modulkassa_register_points": serves.get(host, [])}
    inventory = _write_inventory(tmp_path / "inventory", files)
    report_dir = tmp_path / "report"
    stats_file = tmp_path / "run-stats.json"
    env = with_run_stats(_env(cabinet), stats_file)
    env.update(ANSIBLE_CALLBACKS_ENABLED=env["ANSIBLE_CALLBACKS_ENABLED"] + ",modulkassa.pos.drift_report",
               MODULKASSA_DRIFT_REPORT_DIR=str(report_dir))

    run = run_playbook(SITE, inventory=inventory, env=env)
    assert run.rc != 0, run.output_tail()
    # The registers whose points are in place converged in this same run.
    ids = dict((r["name"], r["id"]) for r in run.result(POINTS_TASK)["results"])
    assert _holder(_point(cabinet, ids[points[0]["name"]])) == registers.serial("reg01")
    assert _holder(_point(cabinet, ids[points[2]["name"]])) == registers.serial("reg03")
    assert run.stats["reg01"]["changed"] == 1 and run.stats["reg03"]["changed"] == 1
    # The one serving the refused point failed before any request, naming it; the point is untouched elsewhere.
    refused = run.result(UNCONVERGED_TASK, "reg02")
    assert run.stats["reg02"]["failed"] == 1 and points[1]["name"] in refused["msg"], refused
    assert REGISTER_TASK not in [t["task"] for t in run.tasks if t["host"] == "reg02"]
    with cabinet.api("other@example.com", "other-password-2") as api:
        assert api.get("/api/v1/retail-point/%s" % foreign_id).json()["name"] == "%s elsewhere" % tag
    # The run fails at its end, naming the point.
    final = run.result(FAILED_POINTS_TASK)
    assert run.stats["localhost"]["failed"] == 1 and run.stats["localhost"]["rescued"] == 1
    assert "1 retail point(s) could not be written" in final["msg"] and points[1]["name"] in final["msg"], final

    # The drift report: an error, the point listed as failed.
    report = json.loads((report_dir / "drift-report.json").read_text(encoding="utf-8"))
    assert (report["status"], report["exit_code"]) == ("error", 1)
    failed_points = [p for p in report["retail_points"] if p.get("outcome") == "failed"]
    assert [(p["name"], p["action"]) for p in failed_points] == [(points[1]["name"], "create")], report["retail_points"]
    assert any(points[1]["name"] in f["msg"] for f in report["failures"] if f["host"] == "localhost")
    assert any(f["host"] == "reg02" for f in report["failures"])
    markdown = (report_dir / "drift-report.md").read_text(encoding="utf-8")
    assert "create (failed)" in markdown and points[1]["name"] in markdown

    # What AWX gets: the same verdict, per object.
    published = published_drift_summary(stats_file)
    assert (published["finished"], published["status"], published["exit_code"]) == (True, "error", 1), published
    assert {(p["name"], p["verdict"]) for p in published["retail_points"]} == {
        (points[0]["name"], "create"), (points[1]["name"], "failed"), (points[2]["name"], "create")}
    assert [(r["host"], r["verdict"]) for r in published["registers"]] == [
        ("reg01", "changed"), ("reg02", "failed"), ("reg03", "changed")]
    assert published["summary"]["retail_points"]["failed"] == 1

    # The next run through the wrapper: the others have nothing to do, the point still fails -> exit 1.
    plan_env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                    **_env(cabinet))
    plan = subprocess.run([PLAN, "--report-dir", str(tmp_path / "plan"), SITE, "-i", inventory], cwd=str(tmp_path),
                          env=plan_env, capture_output=True, text=True, timeout=300, check=False)
    assert plan.returncode == 1, plan.stdout[-3000:] + plan.stderr[-2000:]
    report = json.loads((tmp_path / "plan" / "drift-report.json").read_text(encoding="utf-8"))
    assert report["status"] == "error" and [p["name"] for p in report["retail_points"] if p.get("outcome") == "failed"] == [
        points[1]["name"]]
    assert [r["host"] for r in report["registers"]] == [], "the converged registers had nothing left to do"
