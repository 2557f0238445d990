# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The export (playbooks/export.yml, modulkassa.pos.fleet_export) against the real emulator, real ansible-playbook
runs and the real modulkassa-plan wrapper: an account filled by hand through the cabinet's API -> export -> validate
exits 0 -> modulkassa-plan exits 0 with zero cabinet writes -> re-export byte for byte identical.

The account is ``export@example.com``, which no other test uses: an export writes the whole account. Each test
empties it first. Registers hold points through the device API (what a register's app calls), under serials
chosen here, so the exported register hosts are placeholders nobody can SSH to.

Until the cabinet-only binding audit (``modulkassa_registers_via: cabinet``) lands, the audit of the exported
registers would try SSH to those placeholders; the round trips therefore run modulkassa-plan with
``--limit localhost`` (see ``_plan``) and assert the registers part on the exported files and through validation.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import unwrap_unsafe  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPORT_PLAYBOOK = REPO_ROOT / "playbooks" / "export.yml"
VALIDATE_PLAYBOOK = REPO_ROOT / "playbooks" / "validate.yml"
SITE_PLAYBOOK = REPO_ROOT / "playbooks" / "site.yml"
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
ACCOUNT = ("export@example.com", "export-password-4")
FILES = ("group_vars/all/retail_points.yml", "group_vars/all/cabinet.yml", "registers.yml", "group_vars/registers.yml")

# Legal entities: two companies (10-digit INN with a KPP) and an individual entrepreneur (12 digits, no KPP).
VASILYOK = {"inn": "7707083893", "settings": {"egaisSettings": {"kpp": "773601001"}, "defaultTaxMode": "COMMON",
                                              "defaultVatTag": 1113, "fiscalServiceEnabled": False}}
NEVA = {"inn": "7814148471", "settings": {"egaisSettings": {"kpp": "781401001"}, "defaultTaxMode": "SIMPLIFIED",
                                          "defaultVatTag": 1109, "fiscalServiceEnabled": True}}
SAFINA = {"inn": "500100732259", "settings": {"defaultTaxMode": "PATENT", "defaultVatTag": 1105}}


# ---- the account, by hand ----------------------------------------------------------------------------

def _env(cabinet):
    return {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": ACCOUNT[0], "MODULKASSA_PASSWORD": ACCOUNT[1]}


def _api(cabinet):
    return cabinet.api(*ACCOUNT)


def _empty_account(cabinet):
    with _api(cabinet) as api:
        for point in api.get("/api/v1/retail-points").json():
            if point.get("registrationRequestStatus") not in ("NOT_EXISTS", "DRAFT", "ERROR", "REGISTERED", None):
                cabinet.set_health(point["id"], registration_status="NOT_EXISTS")
            assert api.delete("/api/v1/retail-point/%s" % point["id"]).status_code == 204


def _create(api, name, *bases, **fields):
    """A point as a person makes it in the cabinet: a random (uuid4) id."""
    body = {"id": str(uuid.uuid4()), "name": name}
    for base in bases:
        body.update(json.loads(json.dumps(base)))
    for key, value in fields.items():  # the cabinet's form sends nested settings whole; keep the base's KPP and tax data
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = dict(body[key], **value)
        else:
            body[key] = value
    response = api.post("/api/v1/retail-points", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _bind(cabinet, api, point_id, serial):
    """The register with ``serial`` redeems a fresh code of the point (the device API a register's app calls)."""
    code = "code-%s" % uuid.uuid4().hex
    assert api.put("/api/v1/retail-point/%s" % point_id, json={"posLinkToken": code}).status_code == 200
    response = cabinet._emu.post("/api/device/v1/activate", json={"code": code, "serial": serial, "model": "MSPOS-K",
                                                                   "appVersion": "2.4.1"})
    assert response.status_code == 200, response.text


def _cabinet_points(cabinet):
    with _api(cabinet) as api:
        return dict((p["id"], p) for p in api.get("/api/v1/retail-points").json())


def _requests(cabinet):
    return cabinet.counters(ACCOUNT[0])


# ---- what a user runs ---------------------------------------------------------------------------------

def _export(run_playbook, cabinet, dest, check=False, diff=False, verbosity=0, **extra):
    extra_vars = {"modulkassa_export_dir": str(dest)}
    extra_vars.update(("modulkassa_export_%s" % key, value) for key, value in extra.items())
    return run_playbook(EXPORT_PLAYBOOK, extra_vars=extra_vars, env=_env(cabinet), check=check, diff=diff,
                        verbosity=verbosity)


def _export_result(run):
    return run.result("The account, as fleet data in modulkassa_export_dir")


def _files(dest):
    return dict((name, (Path(dest) / name).read_bytes()) for name in FILES)


def _comments(text):
    """The comments of a file as one line of words (a long comment is wrapped over several lines)."""
    words = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            words.extend(line.lstrip()[1:].split())
    return " ".join(words)


def _inventory(ansible_env, dest):
    """What Ansible reads from the exported directory (``ansible-inventory --list --export``)."""
    done = subprocess.run([sys.executable, "-m", "ansible.cli.inventory", "-i", str(dest), "--list", "--export"],
                          env=ansible_env, cwd=str(dest), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return unwrap_unsafe(json.loads(done.stdout))


def _plan(ansible_env, cabinet, tmp_path, dest, playbook=None):
    """tools/modulkassa-plan over the exported inventory, as a pipeline runs it.

    The exported inventory as it is: its registers have no SSH address yet, and its ``modulkassa_registers_via:
    cabinet`` makes the registers play audit them from the cabinet alone (no SSH connection).
    """
    report = tmp_path / ("report-%s" % uuid.uuid4().hex[:6])
    env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               MK_TEST_RESULTS=str(tmp_path / "plan-results.jsonl"), **_env(cabinet))
    command = [str(PLAN), "--report-dir", str(report)] + ([str(playbook)] if playbook else [])
    command += ["-i", str(dest)]
    done = subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    return done, report


def _fill_by_hand(cabinet, run_playbook):
    """The account a chain brings: hand-made points (uuid4 ids), names full of YAML and Jinja punctuation, three
    legal entities, registers holding points, one point in the middle of its tax-office registration, one in ENVD,
    one with a pending code, settings the fleet data does not manage, and one point made by this collection."""
    with _api(cabinet) as api:
        made = {}
        made["main"] = _create(api, "Василёк Москва Тверская 7, касса 1", VASILYOK, address="г. Москва, ул. Тверская, д. 7",
                               phone="4951200707")
        made["cafe"] = _create(api, "Василёк Москва Тверская 7: кафе «Ромашка»", VASILYOK, phone="4951200708",
                               fullAddress={"custom": False, "city": "Москва", "street": "Тверская", "house": "7"},
                               payments={"mock": {"enabled": True}},
                               settings={"checkSettings": {"footerText": ["Спасибо!"]},
                                         "hardwareSettings": {"printerSettings": {"accessCode": "ACCESS-CODE-7f3a"}}})
        made["hash"] = _create(api, "Касса #3 'склад' \"двор\"", VASILYOK)
        made["dash"] = _create(api, "- тире в начале", NEVA, address="СПб, Невский пр., 100")
        made["emoji"] = _create(api, "Кофе ☕ 🍩", NEVA)
        made["bool"] = _create(api, "yes", NEVA)
        made["number"] = _create(api, "0123", NEVA)
        made["jinja"] = _create(api, "Акция {{ скидка }} 50%", NEVA)
        made["ip"] = _create(api, "ИП Сафина: Казань, Баумана 44", SAFINA, phone="8432000044")
        made["envd"] = _create(api, "Старый павильон", inn="7707083893",
                               settings={"egaisSettings": {"kpp": "773601001"}, "defaultTaxMode": "ENVD"})
        made["pending"] = _create(api, "Планшет в зале", SAFINA, posLinkToken="PENDING-CODE-%s" % uuid.uuid4().hex[:8])
        made["bare"] = _create(api, "Без реквизитов")
        _bind(cabinet, api, made["main"]["id"], "SN-EXP-01")
        _bind(cabinet, api, made["cafe"]["id"], "SN-EXP-01")  # one register, two points
        _bind(cabinet, api, made["ip"]["id"], "ЗН 0001/2026 #7")  # a serial that is no host name
        _bind(cabinet, api, made["jinja"]["id"], "00042")
    cabinet.set_health(made["main"]["id"], registration_status="OFD_WAIT_RNM")
    cabinet.set_health(made["ip"]["id"], kkt_status="FN_NOT_PLUGGED")
    # A point this collection created: its id is the one derived from the login and the name.
    created = run_playbook(json.dumps([{"name": "one point", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "point", "modulkassa.pos.retail_point": {"name": "Создана коллекцией", "inn": "7707083893",
                                                           "kpp": "773601001", "vat": "VAT_22"}}]}]), env=_env(cabinet))
    assert created.rc == 0, created.output_tail()
    made["ours"] = created.result("point")["point"]
    return made


# ---- the tests ----------------------------------------------------------------------------------------

def test_round_trip_of_a_hand_filled_account(cabinet, run_playbook, ansible_env, tmp_path):
    _empty_account(cabinet)
    made = _fill_by_hand(cabinet, run_playbook)
    held = _cabinet_points(cabinet)
    pending_code = held[made["pending"]["id"]]["posLinkToken"]
    assert pending_code and len(held) == 13

    dest = tmp_path / "chain"
    cabinet.reset_counters()
    run = _export(run_playbook, cabinet, dest, verbosity=4)
    assert run.rc == 0, run.output_tail()
    assert _requests(cabinet) == {"GET /api/v1/retail-points": 1}  # one list, no write
    result = _export_result(run)
    assert result["changed"] is True and [f["action"] for f in result["files"]] == ["create"] * 4
    assert result["summary"]["points"] == 13 and result["summary"]["ids_kept"] == 12 and result["summary"]["registers"] == 3

    # No secret anywhere: not in the files, the result, nor the -vvvv output.
    texts = dict((name, data.decode("utf-8")) for name, data in _files(dest).items())
    seen = "\n".join(texts.values()) + run.stdout + run.stderr + json.dumps(result, ensure_ascii=False)
    for secret in (ACCOUNT[1], pending_code, "ACCESS-CODE-7f3a"):
        assert secret not in seen

    # The points, as Ansible reads them: every managed attribute the cabinet holds, ids kept but the derived one.
    inventory = _inventory(ansible_env, dest)
    declared = dict((p.get("name", p.get("id")), p) for p in inventory["all"]["vars"]["modulkassa_points"])
    assert inventory["all"]["vars"]["modulkassa_points_purge"] is False
    assert declared["Василёк Москва Тверская 7, касса 1"] == {
        "name": "Василёк Москва Тверская 7, касса 1", "id": made["main"]["id"], "address": "г. Москва, ул. Тверская, д. 7",
        "phone": "4951200707", "inn": "7707083893", "kpp": "773601001", "tax_mode": "COMMON", "vat": "VAT_22",
        "fiscal_service_enabled": False}
    assert declared["ИП Сафина: Казань, Баумана 44"] == {
        "name": "ИП Сафина: Казань, Баумана 44", "id": made["ip"]["id"], "phone": "8432000044", "inn": "500100732259",
        "tax_mode": "PATENT", "vat": "NO_VAT"}
    assert declared["Кофе ☕ 🍩"]["vat"] == "VAT_5" and declared["Кофе ☕ 🍩"]["tax_mode"] == "SIMPLIFIED"
    assert declared["Создана коллекцией"] == {"name": "Создана коллекцией", "inn": "7707083893", "kpp": "773601001",
                                             "vat": "VAT_22"}  # no id: the collection derives the same one
    assert declared["Без реквизитов"] == {"name": "Без реквизитов", "id": made["bare"]["id"]}
    assert declared["Старый павильон"] == {"name": "Старый павильон", "id": made["envd"]["id"], "inn": "7707083893",
                                          "kpp": "773601001"}
    for key in ("hash", "dash", "emoji", "bool", "number", "jinja"):
        assert declared[made[key]["name"]]["id"] == made[key]["id"]
    assert sorted(declared) == sorted(p["name"] for p in held.values())

    points_text = texts["group_vars/all/retail_points.yml"]
    assert '    inn: "500100732259"\n' in points_text and '    kpp: "773601001"\n' in points_text
    assert '    phone: "4951200707"\n' in points_text and "    vat: VAT_22\n" in points_text
    assert "1113" not in points_text and "tax_mode: ENVD\n" not in points_text
    comments = _comments(points_text)
    assert "tax_mode ENVD in the cabinet is not declared" in comments
    assert '  - name: !unsafe "Акция {{ скидка }} 50%"\n' in points_text
    assert '  - name: "yes"\n' in points_text and '  - name: "0123"\n' in points_text
    assert "registrationRequestStatus OFD_WAIT_RNM" in comments and "kktStatus FN_NOT_PLUGGED" in comments
    assert "an activation code is pending (the code is not exported)" in comments
    assert 'fullAddress in the cabinet (not managed here): {"city": "Москва"' in comments
    assert "payments, settings.checkSettings, settings.hardwareSettings" in comments
    assert comments.count("no register holds it") == 9 == len(result["summary"]["points_without_register"])

    # The registers: hosts of `registers` named from their serials, no SSH address, audited from the cabinet.
    hostvars = inventory["_meta"]["hostvars"]
    assert sorted(inventory["registers"]["hosts"]) == sorted(hostvars)
    by_serial = dict((v["modulkassa_register_serial"], (host, v)) for host, v in hostvars.items())
    assert sorted(by_serial) == ["00042", "SN-EXP-01", "ЗН 0001/2026 #7"]
    assert by_serial["SN-EXP-01"][0] == "SN-EXP-01"
    assert by_serial["SN-EXP-01"][1]["modulkassa_register_points"] == [
        "Василёк Москва Тверская 7, касса 1", "Василёк Москва Тверская 7: кафе «Ромашка»"]
    assert by_serial["ЗН 0001/2026 #7"][1]["modulkassa_register_points"] == ["ИП Сафина: Казань, Баумана 44"]
    assert by_serial["00042"][1]["modulkassa_register_points"] == ["Акция {{ скидка }} 50%"]
    assert by_serial["ЗН 0001/2026 #7"][0].startswith("0001-2026-7-")
    assert all("ansible_host" not in v for v in hostvars.values())
    assert texts["registers.yml"].count("# ansible_host: FILL IN") == 3
    assert inventory["registers"]["vars"] == {"modulkassa_registers_via": "cabinet"}
    assert "Audited from the cabinet until you fill in the SSH addresses" in _comments(texts["group_vars/registers.yml"])
    assert "Exported from the cabinet account export@example.com at %s" % cabinet.url in _comments(
        texts["group_vars/all/cabinet.yml"])

    # validate: exit 0, without credentials and without a request.
    cabinet.reset_counters()
    validated = run_playbook(VALIDATE_PLAYBOOK, inventory=dest)
    assert validated.rc == 0, validated.output_tail()
    assert validated.result("The fleet data is valid")["summary"]["bindings"] == 4
    assert cabinet.counters() == {}

    # modulkassa-plan: no drift, exit 0, no write.
    cabinet.reset_counters()
    planned, report = _plan(ansible_env, cabinet, tmp_path, dest)
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-2000:]
    assert cabinet.writes(ACCOUNT[0]) == 0
    drift = json.loads((report / "drift-report.json").read_text(encoding="utf-8"))
    assert drift["status"] == "no_drift" and drift["summary"]["notices"] == 1  # the ENVD point, reported

    # Re-export over the first one: byte for byte the same files, and the task says nothing changed.
    first = _files(dest)
    again = _export(run_playbook, cabinet, dest, force=True)
    assert again.rc == 0, again.output_tail()
    assert _export_result(again)["changed"] is False
    assert [f["action"] for f in _export_result(again)["files"]] == ["unchanged"] * 4
    assert _files(dest) == first


def test_a_diff_between_two_exports_reads_as_the_change(cabinet, run_playbook, tmp_path):
    _empty_account(cabinet)
    with _api(cabinet) as api:
        points = [_create(api, "Магазин %02d" % index, VASILYOK) for index in range(6)]
        _bind(cabinet, api, points[2]["id"], "SN-DIFF-1")
    before, after = tmp_path / "before", tmp_path / "after"
    assert _export(run_playbook, cabinet, before).rc == 0
    with _api(cabinet) as api:
        assert api.put("/api/v1/retail-point/%s" % points[2]["id"], json={"name": "Магазин 02 (новый)"}).status_code == 200
        assert api.put("/api/v1/retail-point/%s" % points[4]["id"],
                       json={"settings": {"defaultVatTag": 1102}}).status_code == 200
    assert _export(run_playbook, cabinet, after).rc == 0

    changed = {}
    for name in FILES:
        old = (before / name).read_text(encoding="utf-8").splitlines()
        new = (after / name).read_text(encoding="utf-8").splitlines()
        changed[name] = [line for line in difflib.unified_diff(old, new, lineterm="", n=0)
                         if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == {
        "group_vars/all/retail_points.yml": ["-  - name: Магазин 02", "+  - name: Магазин 02 (новый)",
                                             "-    vat: VAT_22", "+    vat: VAT_20"],
        "group_vars/all/cabinet.yml": [],
        "registers.yml": ["-            - Магазин 02", "+            - Магазин 02 (новый)"],
        "group_vars/registers.yml": [],
    }


def test_a_rename_in_git_renames_the_point(cabinet, run_playbook, ansible_env, tmp_path):
    _empty_account(cabinet)
    with _api(cabinet) as api:
        point = _create(api, "Точка до переименования", NEVA)
        _create(api, "Соседка", NEVA)
    dest = tmp_path / "chain"
    assert _export(run_playbook, cabinet, dest).rc == 0
    path = dest / "group_vars" / "all" / "retail_points.yml"
    text = path.read_text(encoding="utf-8")
    assert text.count("Точка до переименования") == 1
    path.write_text(text.replace("Точка до переименования", "Точка после переименования"), encoding="utf-8")

    # The first apply, through the wrapper as a merge pipeline runs it: exit 2, a change was made.
    cabinet.reset_counters()
    done, dummy = _plan(ansible_env, cabinet, tmp_path, dest, playbook=SITE_PLAYBOOK)
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-2000:]
    counts = _requests(cabinet)
    assert counts.get("POST /api/v1/retail-points", 0) == 0 and counts.get("PUT /api/v1/retail-point/{id}") == 1
    held = _cabinet_points(cabinet)
    assert held[point["id"]]["name"] == "Точка после переименования" and len(held) == 2


def test_a_non_empty_directory_is_refused_before_any_request(cabinet, run_playbook, tmp_path):
    _empty_account(cabinet)
    with _api(cabinet) as api:
        _create(api, "Одна точка", VASILYOK)
    dest = tmp_path / "chain"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n", encoding="utf-8")
    cabinet.reset_counters()
    run = _export(run_playbook, cabinet, dest)
    assert run.rc != 0
    out = _export_result(run)
    assert out["failed"] is True and out["field"] == "dest" and "is not empty" in out["msg"]
    assert "modulkassa_export_force: true" in out["msg"]
    assert cabinet.counters() == {}  # not even the list
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]

    forced = _export(run_playbook, cabinet, dest, force=True)
    assert forced.rc == 0, forced.output_tail()
    assert (dest / "notes.txt").read_text(encoding="utf-8") == "mine\n"  # other files are left alone
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == sorted(FILES + ("notes.txt",))


def test_check_mode_reads_the_cabinet_and_writes_no_file(cabinet, run_playbook, tmp_path):
    _empty_account(cabinet)
    with _api(cabinet) as api:
        point = _create(api, "Проверка", VASILYOK)
    dest = tmp_path / "new" / "chain"
    cabinet.reset_counters()
    run = _export(run_playbook, cabinet, dest, check=True, diff=True)
    assert run.rc == 0, run.output_tail()
    out = _export_result(run)
    assert out["changed"] is True and [(f["path"], f["action"]) for f in out["files"]] == [(f, "create") for f in FILES]
    assert not (tmp_path / "new").exists()
    assert _requests(cabinet) == {"GET /api/v1/retail-points": 1}
    assert out["summary"]["points"] == 1

    # Over an existing export: the change is predicted, the file on disk stays as it was.
    assert _export(run_playbook, cabinet, dest).rc == 0
    before = _files(dest)
    with _api(cabinet) as api:
        assert api.put("/api/v1/retail-point/%s" % point["id"], json={"address": "новый адрес"}).status_code == 200
    run = _export(run_playbook, cabinet, dest, check=True, force=True)
    out = _export_result(run)
    assert run.rc == 0 and out["changed"] is True
    assert [f["action"] for f in out["files"]] == ["update", "unchanged", "unchanged", "unchanged"]
    assert _files(dest) == before


@pytest.mark.slow
def test_filters_export_one_legal_entity_or_names_by_pattern(cabinet, run_playbook, ansible_env, tmp_path):
    _empty_account(cabinet)
    with _api(cabinet) as api:
        moscow = [_create(api, "Василёк Москва %d" % i, VASILYOK) for i in (1, 2)]
        neva = [_create(api, "Василёк-Нева Невский %d" % i, NEVA) for i in (1, 2)]
        ip = _create(api, "ИП Сафина, Казань", SAFINA)
        _bind(cabinet, api, moscow[0]["id"], "SN-SHARED")
        _bind(cabinet, api, neva[0]["id"], "SN-SHARED")  # one register, two legal entities
        _bind(cabinet, api, ip["id"], "SN-IP")

    by_inn = tmp_path / "by-inn"
    run = _export(run_playbook, cabinet, by_inn, inn="7707083893")  # -e modulkassa_export_inn=7707083893
    assert run.rc == 0, run.output_tail()
    inventory = _inventory(ansible_env, by_inn)
    assert [p["name"] for p in inventory["all"]["vars"]["modulkassa_points"]] == ["Василёк Москва 1", "Василёк Москва 2"]
    assert inventory["_meta"]["hostvars"] == {"SN-SHARED": {
        "modulkassa_register_serial": "SN-SHARED", "modulkassa_register_points": ["Василёк Москва 1"]}}
    text = _comments((by_inn / "registers.yml").read_text(encoding="utf-8"))
    assert 'it also holds "Василёк-Нева Невский 1" (id %s), outside this export' % neva[0]["id"] in text
    points_text = (by_inn / "group_vars/all/retail_points.yml").read_text(encoding="utf-8")
    assert '\n# Part of the account: INN "7707083893".\n' in points_text
    summary = _export_result(run)["summary"]
    assert summary["account_points"] == 5 and summary["registers_outside"] == 1
    assert any("would release them" in w for w in _export_result(run).get("warnings", []))
    assert run_playbook(VALIDATE_PLAYBOOK, inventory=by_inn).rc == 0

    by_name = tmp_path / "by-name"
    run = _export(run_playbook, cabinet, by_name, names="Василёк-Нева *")  # one string: one pattern
    assert run.rc == 0, run.output_tail()
    inventory = _inventory(ansible_env, by_name)
    assert [p["name"] for p in inventory["all"]["vars"]["modulkassa_points"]] == [
        "Василёк-Нева Невский 1", "Василёк-Нева Невский 2"]
    run = _export(run_playbook, cabinet, tmp_path / "comma", names=["ИП Сафина, *"], inn=["500100732259"])
    assert run.rc == 0 and _export_result(run)["summary"]["points"] == 1

    cabinet.reset_counters()
    bad = _export(run_playbook, cabinet, tmp_path / "bad", inn="7707083890")
    assert bad.rc != 0 and _export_result(bad)["field"] == "inn[0]" and cabinet.counters() == {}


@pytest.mark.slow
def test_a_thousand_points_cost_one_request_and_round_trip(cabinet, run_playbook, ansible_env, tmp_path):
    """The 1,000-point case (the bench measures its time: bench/bench_export.py)."""
    _empty_account(cabinet)
    entities = (VASILYOK, NEVA, SAFINA)
    with _api(cabinet) as api:
        points = [_create(api, "Точка №%04d: «%s»" % (index, "ab"[index % 2]), entities[index % 3],
                          address="г. Город, ул. Улица, д. %d" % index, phone="495%07d" % index)
                  for index in range(1000)]
        for index in range(0, 1000, 25):  # 40 registers, one point each
            _bind(cabinet, api, points[index]["id"], "SN-K%03d" % (index // 25))
    dest = tmp_path / "big"
    cabinet.reset_counters()
    run = _export(run_playbook, cabinet, dest)
    assert run.rc == 0, run.output_tail()
    assert sum(_requests(cabinet).values()) <= 2 and _requests(cabinet) == {"GET /api/v1/retail-points": 1}
    summary = _export_result(run)["summary"]
    assert summary["points"] == 1000 and summary["registers"] == 40 and summary["ids_kept"] == 1000

    assert run_playbook(VALIDATE_PLAYBOOK, inventory=dest).rc == 0
    cabinet.reset_counters()
    planned, dummy = _plan(ansible_env, cabinet, tmp_path, dest)
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-2000:]
    assert cabinet.writes(ACCOUNT[0]) == 0
    first = _files(dest)
    assert _export(run_playbook, cabinet, dest, force=True).rc == 0
    assert _files(dest) == first


def test_names_equal_after_folding_export_one_by_name_the_others_by_id_and_round_trip(cabinet, run_playbook,
                                                                                       ansible_env, tmp_path):
    """The cabinet accepts names that differ only in case and spaces; the fleet data does not. The export names one,
    declares the others by id with a comment saying why, and the round trip still holds: valid, no write, stable."""
    _empty_account(cabinet)
    with _api(cabinet) as api:
        kiosks = [_create(api, name, VASILYOK) for name in ("Ларёк у метро", "ларёк у метро", "ЛАРЁК  у метро")]
        _bind(cabinet, api, kiosks[1]["id"], "SN-TWIN")
    dest = tmp_path / "twins"
    assert _export(run_playbook, cabinet, dest).rc == 0
    declared = _inventory(ansible_env, dest)["all"]["vars"]["modulkassa_points"]
    assert [p.get("name") for p in declared] == ["ЛАРЁК  у метро", None, None]
    assert sorted(p["id"] for p in declared) == sorted(k["id"] for k in kiosks)
    points_text = _files(dest)["group_vars/all/retail_points.yml"].decode("utf-8")
    assert _comments(points_text).count("declared by its id, the name left as it is") == 2
    assert "- \"%s\"\n" % kiosks[1]["id"] in _files(dest)["registers.yml"].decode("utf-8")

    assert run_playbook(VALIDATE_PLAYBOOK, inventory=dest).rc == 0
    cabinet.reset_counters()
    planned, dummy = _plan(ansible_env, cabinet, tmp_path, dest)
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-2000:]
    assert cabinet.writes(ACCOUNT[0]) == 0
    assert sorted(p["name"] for p in _cabinet_points(cabinet).values()) == sorted(k["name"] for k in kiosks)
    first = _files(dest)
    assert _export(run_playbook, cabinet, dest, force=True).rc == 0
    assert _files(dest) == first
