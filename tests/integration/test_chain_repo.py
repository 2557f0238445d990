# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/chain-repo, the AWX project layout: its playbooks parse against the collection under test, its
collection requirement is one ansible-galaxy accepts and the collection satisfies, and its ansible.cfg is the one
the jobs get (the wrapper playbooks resolve, the drift report is enabled)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHAIN_REPO = REPO_ROOT / "examples" / "chain-repo"
PLAYBOOKS = ("validate.yml", "retail_points.yml", "registers.yml", "site.yml", "audit.yml", "export.yml")


def _ansible(tool, *args, env, cwd=CHAIN_REPO):
    """An ansible CLI of the core under test, run in the project directory (so its ansible.cfg applies)."""
    run_env = dict(env)
    run_env.pop("ANSIBLE_CALLBACKS_ENABLED", None)  # the harness's; the project's ansible.cfg names its own
    return subprocess.run([sys.executable, "-m", "ansible.cli.%s" % tool] + list(args), cwd=cwd, env=run_env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_project_holds_a_wrapper_for_every_collection_playbook(collection_root):
    shipped = sorted(p.name for p in (collection_root / "playbooks").glob("*.yml"))
    assert sorted(PLAYBOOKS) == shipped
    for name in PLAYBOOKS:
        plays = yaml.safe_load((CHAIN_REPO / name).read_text(encoding="utf-8"))
        assert [play["ansible.builtin.import_playbook"] for play in plays] == ["modulkassa.pos.%s" % name[:-4]]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_each_playbook_parses_against_the_installed_collection(playbook, ansible_env):
    # The inventory comes from the project's ansible.cfg (the example chain); the collection from the harness's path.
    run = _ansible("playbook", "--syntax-check", playbook, env=ansible_env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "playbook: %s" % playbook in run.stdout
    assert "[WARNING]" not in run.stderr, run.stderr  # no "does not support Ansible version", no unparsed inventory


def test_the_collection_requirement_is_valid_and_met_by_the_collection(collection_root, collections_path, ansible_env):
    requirements = yaml.safe_load((CHAIN_REPO / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    assert [c["name"] for c in requirements["collections"]] == ["modulkassa.pos"]
    # ansible-galaxy itself parses the file and resolves it offline against the installed collection: a bad file,
    # or a version range the collection does not meet, fails here.
    run = _ansible("galaxy", "collection", "install", "--offline", "-r", "collections/requirements.yml",
                   "-p", str(collections_path), env=ansible_env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "Nothing to do. All requested collections are already installed" in run.stdout


def test_the_project_config_enables_the_drift_report_and_its_inventory(ansible_env):
    run = _ansible("config", "dump", "--only-changed", env=dict(ansible_env, ANSIBLE_NOCOLOR="1"))
    assert run.returncode == 0, run.stderr
    assert "modulkassa.pos.drift_report" in run.stdout and "CALLBACKS_ENABLED" in run.stdout
    graph = _ansible("inventory", "--graph", env=ansible_env)
    assert graph.returncode == 0, graph.stderr
    assert "@registers:" in graph.stdout and "@kazan:" in graph.stdout  # the example chain, through ansible.cfg
