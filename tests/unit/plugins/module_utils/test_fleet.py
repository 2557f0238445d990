# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet validator, rule by rule, on plain data (the integration tests run it through ansible-playbook)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_inventory import (
    Unrenderable,
    misspelt_fleet_variable,
    validate_inventory,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_validation import format_path, validate_fleet

ID_A = "0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a"
ID_B = "3769574b-d082-4c9e-9d4f-1b6a5d3e2f10"
KAZAN_5_OTHER_VAT = {"name": "Kazan 5", "inn": "500100732259", "tax_mode": "PATENT", "vat_tag": 1102}


def _fleet():
    return {
        "modulkassa_points": [
            {"name": "Moscow 1", "address": "Moscow", "phone": "+7 495 123-45-67", "inn": "7707083893",
             "kpp": "773601001", "tax_mode": "COMMON", "vat_tag": 1102, "fiscal_service_enabled": False},
            {"name": "Moscow 1 cafe", "inn": "7707083893", "kpp": "773601001"},
            {"name": "Kazan 5", "inn": "500100732259", "tax_mode": "PATENT", "vat_tag": 1105},
            {"id": ID_A, "name": "Made by hand"},
            {"name": "Closed shop", "state": "absent"},
            {"name": "Kiosk"},
        ],
        "modulkassa_points_purge": False,
        "modulkassa_manual_registers": [{"name": "kiosk-1", "retail_points": ["Kiosk"]}],
        "modulkassa_code_file": "/secure/codes.json",
        "hosts": {
            "reg01": {"modulkassa_register_points": ["Moscow 1", "Moscow 1 cafe"]},
            "reg02": {"modulkassa_register_points": ["Kazan 5"]},
            "reg03": {"modulkassa_register_points": [ID_A.upper()]},
            "reg04": {"modulkassa_register_points": []},
        },
    }


def _errors(document):
    errors, dummy = validate_fleet(document)
    return dict((e.path, e.message) for e in errors)


def test_the_valid_fleet_passes_with_a_summary():
    errors, summary = validate_fleet(_fleet())
    assert errors == []
    assert summary == {"points": 5, "points_absent": 1, "purge": False, "registers": 4, "manual_registers": 1,
                       "bindings": 5, "points_without_register": []}


def _broken(mutate):
    document = _fleet()
    mutate(document)
    return _errors(document)


def _point(index, **fields):
    """Set ``fields`` on the ``index``-th declared point."""
    return lambda d: d["modulkassa_points"][index].update(fields)


def _host(name, **fields):
    """Set host variables of the register host ``name``."""
    return lambda d: d["hosts"][name].update(fields)


def _fleet_vars(**fields):
    """Set fleet-wide variables."""
    return lambda d: d.update(fields)


# One case per rule: how the data is broken -> (path, a fragment of the message).
RULES = {
    "type-string": (_point(0, inn=7707083893),
                    "modulkassa_points[0].inn", "must be a string, not an integer (quote it"),
    "type-bool": (_point(0, fiscal_service_enabled="yes"),
                  "modulkassa_points[0].fiscal_service_enabled", "must be true or false"),
    "type-list": (_host("reg02", modulkassa_register_points="Kazan 5"),
                  "hosts.reg02.modulkassa_register_points", "must be a list, not a string"),
    "type-purge": (_fleet_vars(modulkassa_points_purge="no"), "modulkassa_points_purge", "must be true or false"),
    "purge-exclude-string": (_fleet_vars(modulkassa_points_purge_exclude="1C *"),
                             "modulkassa_points_purge_exclude", "must be a list, not a string"),
    "purge-exclude-blank": (_fleet_vars(modulkassa_points_purge_exclude=["1C *", " "]),
                            "modulkassa_points_purge_exclude[1]", "must not be blank"),
    "purge-exclude-number": (_fleet_vars(modulkassa_points_purge_exclude=[42]),
                             "modulkassa_points_purge_exclude[0]", "must be a string, not an integer"),
    "purge-max-type": (_fleet_vars(modulkassa_points_purge_max="10"),
                       "modulkassa_points_purge_max", "must be an integer, not a string (write it without quotes)"),
    "purge-max-range": (_fleet_vars(modulkassa_points_purge_max=-2),
                        "modulkassa_points_purge_max", "must be at least -1, not -2"),
    "unknown-key": (_point(1, adress="x"), "modulkassa_points[1].adress", "unknown key (did you mean 'address'?)"),
    "unknown-key-manual": (lambda d: d["modulkassa_manual_registers"][0].update(points=["Kiosk"]),
                           "modulkassa_manual_registers[0].points", "unknown key"),
    "inn-checksum": (_point(0, inn="7707083894"), "modulkassa_points[0].inn", "valid INN checksum"),
    "inn-format": (_point(0, inn="77070838"), "modulkassa_points[0].inn", "must be 10 digits"),
    "kpp-format": (_point(0, kpp="77360100"), "modulkassa_points[0].kpp", "must be 9 characters"),
    "kpp-with-12-digit-inn": (_point(2, kpp="773601001"),
                              "modulkassa_points[2].kpp", "must be empty when inn has 12 digits"),
    "phone": (_point(0, phone="+7 495 123"), "modulkassa_points[0].phone", "10-digit phone"),
    "tax-mode": (_point(0, tax_mode="common"), "modulkassa_points[0].tax_mode", "must be one of COMMON"),
    "vat-tag": (_point(0, vat_tag=20), "modulkassa_points[0].vat_tag", "must be one of 1102"),
    "id-format": (_point(3, id="42"), "modulkassa_points[3].id", "must be a UUID"),
    "name-or-id": (lambda d: d["modulkassa_points"][1].pop("name"), "modulkassa_points[1]", "needs a name"),
    "control-character": (_point(1, name="Moscow\n1"), "modulkassa_points[1].name", "control or unassigned characters"),
    "duplicate-name-copy": (lambda d: d["modulkassa_points"].append(copy.deepcopy(d["modulkassa_points"][2])),
                            "modulkassa_points[6].name", "duplicate point name 'Kazan 5': modulkassa_points[2] declares "
                                                         "the same point with the same attributes"),
    "duplicate-name-two-ids": (lambda d: d["modulkassa_points"].append({"id": ID_B, "name": "Made by hand"}),
                               "modulkassa_points[6].name", "duplicate point name 'Made by hand': modulkassa_points[3]"),
    "duplicate-name-other-case": (lambda d: d["modulkassa_points"].append({"id": ID_B, "name": "MADE BY  HAND"}),
                                  "modulkassa_points[6].name",
                                  "duplicate point name 'MADE BY  HAND': modulkassa_points[3] ('Made by hand', id %s) has "
                                  "it too (names are compared ignoring letter case and spaces)" % ID_A),
    "same-name-other-case-twice": (lambda d: d["modulkassa_points"].append({"name": " kiosk "}),
                                   "modulkassa_points[6]", 'name "kiosk" here, "Kiosk" there; names are compared ignoring '
                                                           'letter case and spaces'),
    "declared-twice-differently": (lambda d: d["modulkassa_points"].append(KAZAN_5_OTHER_VAT),
                                   "modulkassa_points[6]", "declared twice with different attributes (also at "
                                                           "modulkassa_points[2]: vat_tag 1102 here, 1105 there)"),
    "same-id-twice": (lambda d: d["modulkassa_points"].append({"id": ID_A.upper(), "name": "Renamed"}),
                      "modulkassa_points[6]", "declared twice with different attributes"),
    "undeclared-point": (_host("reg02", modulkassa_register_points=["Kazan 6"]),
                         "hosts.reg02.modulkassa_register_points[0]",
                         "names retail point 'Kazan 6', which modulkassa_points does not declare (did you mean 'Kazan 5'?)"),
    "undeclared-id": (_host("reg04", modulkassa_register_points=[ID_B]),
                      "hosts.reg04.modulkassa_register_points[0]", "does not declare"),
    "declared-absent": (_host("reg04", modulkassa_register_points=["Closed shop"]),
                        "hosts.reg04.modulkassa_register_points[0]", "declares absent"),
    "same-point-twice-on-a-register": (lambda d: d["hosts"]["reg03"]["modulkassa_register_points"].append("Made by hand"),
                                       "hosts.reg03.modulkassa_register_points[1]", "twice (also [0])"),
    "two-registers-one-point": (_host("reg04", modulkassa_register_points=["Kazan 5"]),
                                "hosts.reg04.modulkassa_register_points[0]",
                                "is also served by hosts.reg02.modulkassa_register_points[0]"),
    "manual-and-ssh-register": (lambda d: d["modulkassa_manual_registers"][0]["retail_points"].append("Kazan 5"),
                                "modulkassa_manual_registers[0].retail_points[1]", "is also served by hosts.reg02"),
    "manual-undeclared": (lambda d: d["modulkassa_manual_registers"][0].update(retail_points=["Kisok"]),
                          "modulkassa_manual_registers[0].retail_points[0]", "(did you mean 'Kiosk'?)"),
    "manual-empty": (lambda d: d["modulkassa_manual_registers"][0].update(retail_points=[]),
                     "modulkassa_manual_registers[0].retail_points", "at least 1"),
    "manual-duplicate-name": (lambda d: d["modulkassa_manual_registers"].append({"name": "kiosk-1", "retail_points": ["Moscow 1"]})
                              or d["hosts"]["reg01"]["modulkassa_register_points"].pop(0),
                              "modulkassa_manual_registers[1].name", "duplicates modulkassa_manual_registers[0].name"),
    "manual-duplicate-name-other-case": (
        lambda d: d["modulkassa_manual_registers"].append({"name": "KIOSK-1", "retail_points": ["Moscow 1"]})
        or d["hosts"]["reg01"]["modulkassa_register_points"].pop(0),
        "modulkassa_manual_registers[1].name", "duplicates modulkassa_manual_registers[0].name ('kiosk-1') (names are "
                                               "compared ignoring letter case"),
    "code-file-required": (lambda d: d.pop("modulkassa_code_file"), "modulkassa_code_file", "is required when"),
    "code-file-absolute": (_fleet_vars(modulkassa_code_file="codes.json"), "modulkassa_code_file",
                           "must be an absolute path"),
    "register-points-required": (lambda d: d["hosts"]["reg04"].pop("modulkassa_register_points"),
                                 "hosts.reg04.modulkassa_register_points", "is required for every host"),
    "blank-reference": (_host("reg04", modulkassa_register_points=["  "]),
                        "hosts.reg04.modulkassa_register_points[0]", "must name a retail point"),
    "points-required": (lambda d: d.pop("modulkassa_points"), "modulkassa_points", "the controller sees no modulkassa_points"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_reports_the_field_path(rule):
    mutate, path, fragment = RULES[rule]
    errors = _broken(mutate)
    assert path in errors, "%s: expected an error at %s, got %s" % (rule, path, errors)
    assert fragment in errors[path], errors[path]


def test_the_purge_guards_variables_are_fleet_data():
    document = _fleet()
    document.update(modulkassa_points_purge=True, modulkassa_points_purge_max=-1,
                    modulkassa_points_purge_exclude=["1C *", ID_B.upper(), "Shop [old]"])
    assert _errors(document) == {}
    document.update(modulkassa_points_purge_max=0, modulkassa_points_purge_exclude=[])
    assert _errors(document) == {}


def test_every_problem_is_reported_at_once_sorted_by_path():
    def mutate(d):
        d["modulkassa_points"][0].update(inn="1", phone="12")
        d["modulkassa_points"][2].update(tax_mode="NONE")
        d["hosts"]["reg01"]["modulkassa_register_points"][1] = "Nope"
    errors, dummy = validate_fleet(_broken_document(mutate))
    assert [e.path for e in errors] == [
        "hosts.reg01.modulkassa_register_points[1]",
        "modulkassa_points[0].inn",
        "modulkassa_points[0].phone",
        "modulkassa_points[2].tax_mode",
    ]


def _broken_document(mutate):
    document = _fleet()
    mutate(document)
    return document


@pytest.mark.parametrize("name,fragment", [
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    (5, "must be a string, not an integer"),
    (True, "must be a string, not a boolean"),
    (None, "must be a string, not null"),
    ([], "must be a string, not a list"),
])
def test_a_bad_name_beside_a_point_no_register_serves_is_reported_not_raised(name, fragment):
    """Both points are in the summary's points_without_register, which sorted None among names (a TypeError)."""
    document = _fleet()
    document["modulkassa_points"] += [{"name": "Unserved"}, {"name": name, "inn": "7707083893"}]
    errors, summary = validate_fleet(document)
    assert [(e.path, fragment in e.message) for e in errors] == [("modulkassa_points[7].name", True)], errors
    assert summary["points_without_register"] == ["Unserved", "modulkassa_points[7]"]


def test_references_name_points_as_names_are_compared_everywhere():
    """A register may write a declared name in another case or spacing: it is the same name (point_name_key)."""
    def mutate(d):
        d["hosts"]["reg01"]["modulkassa_register_points"] = ["MOSCOW  1", " moscow 1 cafe"]
        d["hosts"]["reg04"]["modulkassa_register_points"] = ["kazan 5"]
    errors = _broken(mutate)
    assert list(errors) == ["hosts.reg04.modulkassa_register_points[0]"]
    assert "is also served by hosts.reg02.modulkassa_register_points[0]" in errors["hosts.reg04.modulkassa_register_points[0]"]


def test_a_reference_to_a_point_with_bad_attributes_is_not_reported_as_undeclared():
    errors = _broken(lambda d: d["modulkassa_points"][2].update(inn="123"))
    assert list(errors) == ["modulkassa_points[2].inn"]


def test_host_names_that_are_not_identifiers_are_quoted_in_paths():
    assert format_path(("hosts", "shop-1.example.com", "modulkassa_register_points", 0)) == \
        'hosts["shop-1.example.com"].modulkassa_register_points[0]'
    assert format_path(("hosts", "reg07", "modulkassa_register_points", 1)) == "hosts.reg07.modulkassa_register_points[1]"


@pytest.mark.parametrize("name,expected", [
    ("modulkassa_point", "modulkassa_points"),
    ("modulkassa_register_point", "modulkassa_register_points"),
    ("modulkassa_points_purg", "modulkassa_points_purge"),
    ("modulkassa_points_purge_exclud", "modulkassa_points_purge_exclude"),
    ("modulkassa_points_purgemax", "modulkassa_points_purge_max"),
    ("modulkassa_points_purge_max", None),     # known
    ("modulkassa_manual_register", "modulkassa_manual_registers"),
    ("modulkassa_points", None),               # known
    ("modulkassa_register_serial", None),      # known, not fleet data
    ("modulkassa_register_point_ids", None),   # too far off: someone else's variable
    ("modulkassa_drift_report_dir", None),
    ("other_points", None),
])
def test_misspelt_fleet_variables(name, expected):
    assert misspelt_fleet_variable(name) == expected


def _inventory():
    fleet = _fleet()
    hosts = fleet.pop("hosts")
    controller = dict(fleet, modulkassa_url="https://cabinet.example")
    # Register hosts see group_vars/all too: the controller's variables, plus their own.
    registers = dict((host, dict(controller, **variables)) for host, variables in hosts.items())
    return controller, registers


def test_inventory_view_is_valid():
    controller, registers = _inventory()
    errors, summary = validate_inventory(controller, registers, {"localhost": {}})
    assert errors == [] and summary["registers"] == 4


def test_inventory_typo_in_group_vars_all_is_reported_once_for_the_controller():
    controller, registers = _inventory()
    controller["modulkassa_points_purg"] = True
    for variables in registers.values():
        variables["modulkassa_points_purg"] = True
    registers["reg02"]["modulkassa_register_point"] = registers["reg02"].pop("modulkassa_register_points")
    errors = [str(e) for e in validate_inventory(controller, registers)[0]]
    assert errors == [
        "hosts.reg02.modulkassa_register_point: unknown fleet variable (did you mean 'modulkassa_register_points'?)",
        "hosts.reg02.modulkassa_register_points: is required for every host of the registers group ([] for a register "
        "that must serve no point)",
        "modulkassa_points_purg: unknown fleet variable (did you mean 'modulkassa_points_purge'?)",
    ]


def test_inventory_register_group_overriding_a_controller_variable_is_reported_once_per_value():
    controller, registers = _inventory()
    regional = [{"name": "Kazan 5", "inn": "500100732259", "phone": "+7 843 000-00-00"}]
    for host in ("reg02", "reg03", "reg04"):
        registers[host]["modulkassa_points"] = regional
    errors = validate_inventory(controller, registers)[0]
    assert [e.path for e in errors] == ["hosts.reg02.modulkassa_points"]
    assert "and 2 more hosts: reg03, reg04" in errors[0].message and "group_vars/all" in errors[0].message


def test_inventory_register_variable_outside_the_registers_group_or_on_the_controller():
    controller, registers = _inventory()
    errors = validate_inventory(controller, registers, {"pos-spare": {"modulkassa_register_points": ["Kiosk"]}})[0]
    assert [(e.path, "not in the registers group" in e.message) for e in errors] == [
        ("hosts.pos-spare.modulkassa_register_points", True)]
    controller["modulkassa_register_points"] = []
    errors = validate_inventory(controller, registers)[0]
    assert [e.path for e in errors] == ["modulkassa_register_points"]
    assert "host_vars" in errors[0].message


def test_inventory_unrenderable_variable_is_one_error_with_its_path():
    controller, registers = _inventory()
    registers["reg02"]["modulkassa_register_points"] = Unrenderable("'shop_points' is undefined")
    errors = [str(e) for e in validate_inventory(controller, registers)[0]]
    assert errors == ["hosts.reg02.modulkassa_register_points: cannot be evaluated: 'shop_points' is undefined"]


def test_tagged_subclasses_from_ansible_are_plain_data():
    class TaggedStr(str):
        pass

    class TaggedList(list):
        pass

    document = _fleet()
    document["modulkassa_points"][0]["inn"] = TaggedStr("7707083893")
    document["hosts"]["reg02"]["modulkassa_register_points"] = TaggedList([TaggedStr("Kazan 5")])
    assert validate_fleet(document)[0] == []
