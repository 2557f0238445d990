# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The galaxy tarball ships the collection and nothing else, whatever lies in the working tree.

A copy of the repository's tracked files is seeded with what a developer's tree accumulates (a venv, a ``.env``
holding a password, tool caches, coverage output, an empty ``dist/``, the drift report ``modulkassa-plan`` writes
by default, old tarballs ...), built with the real ``ansible-galaxy collection build``, and the tarball's file
list is checked against what DEVELOPERS.md ("Layout") says ships.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "hunter2-do-not-ship-%d" % os.getpid()

# Tracked paths that do not ship (DEVELOPERS.md, "Layout"): they need the sandbox, or configure this repository.
NOT_SHIPPED_PREFIXES = ("sandbox/", "bench/", "scripts/", ".ci/", "tests/integration/", "tests/sandbox/",
                        "extensions/molecule/", "inventories/sandbox/")
NOT_SHIPPED_FILES = ("DEVELOPERS.md", "pytest.ini", "requirements-dev.txt", "requirements-2.16.txt", ".gitignore",
                     ".ansible-lint", "galaxy.yml")

# What a working tree accumulates; none of it may ship.
JUNK = {
    "venv/bin/python": "#!/bin/sh\n",
    "venv/lib/python3.13/site-packages/httpx/__init__.py": "",
    "venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv-old/pyvenv.cfg": "home = /usr/bin\n",
    ".env": "MODULKASSA_PASSWORD=%s\n" % SECRET,
    "plugins/.env": "MODULKASSA_PASSWORD=%s\n" % SECRET,
    ".mypy_cache/3.13/plugins/action/retail_points.data.json": "{}",
    "htmlcov/index.html": "<html></html>",
    "htmlcov/plugins_action_retail_points_py.html": "<html></html>",
    "tests/unit/.pytest_cache/v/cache/lastfailed": "{}",
    "tests/unit/.pytest_cache/README.md": "pytest cache\n",
    "tests/unit/plugins/__pycache__/test_x.cpython-313-pytest-9.2.0.pyc": "",
    "plugins/module_utils/__pycache__/_point_model.cpython-313.pyc": "",
    "drift-report/drift-report.json": json.dumps({"status": "drift", "retail_points": [{"name": "Shop 1"}]}),
    "drift-report/drift-report.md": "## ModulKassa drift report\n",
    "tests/output/junit/python3.13-units.xml": "<testsuites/>",
    ".tmp/dist/modulkassa-pos-0.0.9.tar.gz": "",
    "modulkassa-pos-0.0.9.tar.gz": "",
    ".hypothesis/examples/x": "",
    "changelogs/.plugin-cache.yaml": "plugins: {}\n",
    "inventories/sandbox/registers.generated.yml": "all: {}\n",
    "bench/results/2026-12-01.json": "{}",
    "notes.md": "my notes: password %s\n" % SECRET,
    "plugins/modules/scratch.txt": "scratch\n",
    "roles/registers/.DS_Store": "",
    "docs/.~lock.fleet.md#": "",
    "playbooks/site.yml.bak": "",
    "playbooks/site.yml~": "",
}
EMPTY_DIRS = ("dist",)

# The Event-Driven Ansible content ships (extensions/eda/...); stand-ins, in case the tree has none yet.
EDA_FILES = {
    "extensions/eda/plugins/event_source/tarball_test_source.py": "# a stand-in event source\n",
    "extensions/eda/rulebooks/tarball_test_rulebook.yml": "---\n- name: stand-in\n  hosts: all\n",
}


def _tracked_files():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    return sorted(name for name in listed.decode("utf-8").split("\0") if name and (REPO_ROOT / name).is_file())


@pytest.fixture
def junk_tree(tmp_path):
    tree = tmp_path / "modulkassa.pos"
    tracked = _tracked_files()
    for name in tracked:
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    for name, text in dict(JUNK, **EDA_FILES).items():
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    for name in EMPTY_DIRS:
        (tree / name).mkdir()
    return tree, tracked


def _build(tree, output):
    if importlib.util.find_spec("distlib") is None:
        pytest.fail("the Python library distlib is missing: galaxy.yml's manifest needs it to build "
                    "(requirements-dev.txt; run bash scripts/bootstrap.sh)", pytrace=False)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env["ANSIBLE_HOME"] = str(output / "ansible-home")
    built = subprocess.run([sys.executable, "-m", "ansible.cli.galaxy", "collection", "build", "--output-path",
                            str(output), str(tree)], cwd=str(output), env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    tarballs = sorted(output.glob("modulkassa-pos-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    return tarballs[0]


def test_the_tarball_ships_the_collection_and_none_of_the_junk(junk_tree, tmp_path):
    tree, tracked = junk_tree
    output = tmp_path / "out"
    output.mkdir()
    with tarfile.open(_build(tree, output)) as tarball:
        members = dict((m.name, m) for m in tarball.getmembers())
        contents = dict((name, tarball.extractfile(m).read()) for name, m in members.items() if m.isfile())
    files = set(name for name in contents if name not in ("MANIFEST.json", "FILES.json"))

    shipped_tracked = set(name for name in tracked if not name.startswith(NOT_SHIPPED_PREFIXES)
                          and name not in NOT_SHIPPED_FILES)
    # Exactly the collection's tracked files (minus what does not ship) and the EDA content: no junk, nothing lost.
    assert files - shipped_tracked - set(EDA_FILES) == set(), "shipped, but not the collection's"
    assert shipped_tracked - files == set(), "the collection's, but not shipped"
    assert set(EDA_FILES) <= files
    for directory in ("venv", ".venv-old", "dist", "htmlcov", ".mypy_cache", "drift-report", "tests/output",
                      "extensions/molecule", "tests/integration", "inventories/sandbox"):
        assert not [name for name in members if name == directory or name.startswith(directory + "/")], directory
    assert not [name for name in members if "__pycache__" in name or ".pytest_cache" in name or name.endswith(".tar.gz")]
    assert not [name for name, data in contents.items() if SECRET.encode() in data], "a password from .env shipped"

    # What users and tools need is there: the plugins, roles, playbooks, docs, the wrapper, the EE files.
    for needed in ("README.md", "LICENSE", "requirements.txt", "bindep.txt", "meta/runtime.yml",
                   "meta/execution-environment.yml", "plugins/action/retail_points.py",
                   "plugins/modules/retail_points.py", "plugins/filter/drift_summary.yml",
                   "roles/retail_points/meta/argument_specs.yml", "roles/registers/README.md", "playbooks/site.yml",
                   "docs/fleet.md", "docs/fleet.schema.json", "changelogs/config.yaml", "tools/modulkassa-plan",
                   "tools/modulkassa_plan.py", "inventories/example/README.md", "tests/unit/conftest.py",
                   "tests/config.yml", "tests/sanity/ignore-2.21.txt"):
        assert needed in files, needed
    manifest = json.loads(contents["FILES.json"])
    assert sorted(f["name"] for f in manifest["files"] if f["ftype"] == "file") == sorted(files)
