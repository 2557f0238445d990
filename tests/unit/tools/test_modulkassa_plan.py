# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/modulkassa_plan.py: argument split and the callbacks it enables (the exit codes: integration tests)."""

from __future__ import annotations

import importlib.util
import os

import pytest

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "modulkassa_plan.py")
SPEC = importlib.util.spec_from_file_location("modulkassa_plan", PATH)
plan = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(plan)


@pytest.mark.parametrize("argv, expected", [
    ([], ("modulkassa.pos.audit", None, [])),
    (["-i", "inv", "--check"], ("modulkassa.pos.audit", None, ["-i", "inv", "--check"])),
    (["site.yml", "-i", "inv"], ("site.yml", None, ["-i", "inv"])),
    (["--playbook=x.yml", "--report-dir", "out", "-e", "a=1"], ("x.yml", "out", ["-e", "a=1"])),
    (["--report-dir", "out", "--", "--playbook", "p"], ("modulkassa.pos.audit", "out", ["--playbook", "p"])),
])
def test_own_options_come_first_and_the_rest_goes_to_ansible_playbook(argv, expected):
    assert plan.parse_arguments(argv) == expected


def test_an_option_without_its_value_is_a_usage_error():
    with pytest.raises(plan.UsageError):
        plan.parse_arguments(["--report-dir"])


def test_callbacks_from_ansible_cfg_are_kept_when_the_environment_has_none(tmp_path):
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ncallbacks_enabled = ansible.posix.profile_tasks, junit\n")
    assert plan.configured_callbacks({"ANSIBLE_CONFIG": str(cfg)}) == ["ansible.posix.profile_tasks", "junit"]
    assert plan.configured_callbacks({"ANSIBLE_CONFIG": str(cfg), "ANSIBLE_CALLBACKS_ENABLED": "a,b"}) == ["a", "b"]
