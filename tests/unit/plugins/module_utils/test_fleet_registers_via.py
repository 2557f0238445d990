# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet variables of the cabinet-only binding audit: modulkassa_registers_via and modulkassa_register_serial."""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_inventory import validate_inventory
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_validation import validate_fleet


def _fleet(**hosts):
    return {
        "modulkassa_points": [{"name": "Moscow 1"}, {"name": "Kazan 5"}],
        "hosts": hosts or {
            "SN-0001": {"modulkassa_register_points": ["Moscow 1"], "modulkassa_register_serial": "SN-0001"},
            "SN-0002": {"modulkassa_register_points": ["Kazan 5"], "modulkassa_register_serial": "SN-0002"},
        },
    }


def _errors(document):
    errors, dummy = validate_fleet(document)
    return [str(error) for error in errors]


def test_an_exported_fleet_audited_from_the_cabinet_is_valid():
    document = _fleet()
    document["modulkassa_registers_via"] = "cabinet"
    assert _errors(document) == []
    for host in document["hosts"].values():  # the export's way: group_vars/registers.yml
        host["modulkassa_registers_via"] = "cabinet"
    assert _errors(document) == []


def test_via_cabinet_needs_a_serial_wherever_via_is_set():
    document = _fleet(reg01={"modulkassa_register_points": ["Moscow 1"], "modulkassa_registers_via": "cabinet"},
                      reg02={"modulkassa_register_points": ["Kazan 5"]})
    assert _errors(document) == [
        "hosts.reg01.modulkassa_register_serial: is required when modulkassa_registers_via is cabinet: the cabinet "
        "names the register holding a point only by its serial"]
    document["modulkassa_registers_via"] = "cabinet"  # every register's default: reg02 needs one too
    assert [error.split(":")[0] for error in _errors(document)] == [
        "hosts.reg01.modulkassa_register_serial", "hosts.reg02.modulkassa_register_serial"]
    document["hosts"]["reg02"]["modulkassa_registers_via"] = "ssh"  # a host's own value wins
    assert [error.split(":")[0] for error in _errors(document)] == ["hosts.reg01.modulkassa_register_serial"]


def test_two_registers_with_one_serial_is_an_error_in_either_mode():
    document = _fleet(reg01={"modulkassa_register_points": ["Moscow 1"], "modulkassa_register_serial": "SN-7"},
                      reg02={"modulkassa_register_points": ["Kazan 5"], "modulkassa_register_serial": "SN-7"})
    assert _errors(document) == [
        "hosts.reg02.modulkassa_register_serial: 'SN-7' is also the serial of hosts.reg01: a serial names one register"]


def test_bad_values_are_named_by_path():
    document = _fleet(reg01={"modulkassa_register_points": [], "modulkassa_register_serial": 42,
                             "modulkassa_registers_via": "api"},
                      reg02={"modulkassa_register_points": [], "modulkassa_register_serial": " "})
    document["modulkassa_registers_via"] = "SSH"
    assert _errors(document) == [
        "hosts.reg01.modulkassa_register_serial: must be a string, not an integer (quote it in YAML: an unquoted number "
        "loses leading zeros, and 0274... is read as octal)",
        "hosts.reg01.modulkassa_registers_via: must be one of ssh, cabinet, not 'api'",
        "hosts.reg02.modulkassa_register_serial: must be a serial number without leading or trailing blanks",
        "modulkassa_registers_via: must be one of ssh, cabinet, not 'SSH'",
    ]


def test_inventory_via_may_be_set_for_the_whole_fleet_a_serial_may_not():
    controller = {"modulkassa_points": [{"name": "Moscow 1"}], "modulkassa_registers_via": "cabinet"}
    registers = {"SN-1": {"modulkassa_register_points": ["Moscow 1"], "modulkassa_register_serial": "SN-1"}}
    errors, summary = validate_inventory(controller, registers)
    assert errors == [] and summary["registers"] == 1
    controller["modulkassa_registers_via"] = "carrier pigeon"
    assert [str(e) for e in validate_inventory(controller, registers)[0]] == [
        "modulkassa_registers_via: must be one of ssh, cabinet, not 'carrier pigeon'"]
    controller["modulkassa_registers_via"] = "cabinet"
    controller["modulkassa_register_serial"] = "SN-1"
    assert [e.path for e in validate_inventory(controller, registers)[0]] == ["modulkassa_register_serial"]


def test_inventory_a_serial_outside_the_registers_group_is_not_fleet_data():
    """The cabinet inventory plugin names its hosts (group modulkassa_registers) by serial, beside the fleet data."""
    controller = {"modulkassa_points": [{"name": "Moscow 1"}]}
    registers = {"reg01": {"modulkassa_register_points": ["Moscow 1"]}}
    others = {"SN-9": {"modulkassa_register_serial": "SN-9"}}
    assert validate_inventory(controller, registers, others)[0] == []
    others["SN-9"]["modulkassa_registers_via"] = "cabinet"
    assert [e.path for e in validate_inventory(controller, registers, others)[0]] == ["hosts.SN-9.modulkassa_registers_via"]
