# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Molecule scenarios (extensions/molecule/) inside the test command.

Molecule is run as a user runs it: the venv's ``molecule`` from the repository root, plain output
(NO_COLOR=1). Its exit status is the verdict: molecule's SCENARIO RECAP can read "Successful" for a step
whose run failed (an idempotence failure exits 1 but the recap says successful), so the recap is never
read. What each run did is read from the harness's test-only callback (MK_TEST_RESULTS), which molecule's
ansible-playbook runs inherit through the environment, never from molecule's stdout.

Every test gets its own HOME and ANSIBLE_HOME, so its own molecule ephemeral directory and sandbox
(cabinet emulator + register hosts, started by the default scenario's create.yml): the two tests may run
on the two xdist workers at the same time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
MOLECULE = VENV_BIN / "molecule"
DEMO = ("demo@example.com", "demo-password-1")

# What the tests look for in the records, so that a scenario cannot pass by doing nothing: the two check-mode
# guards of extensions/molecule/shared/check_mode_end.yml (by task name), and the collection's two
# converging plugins (by action, whichever role or playbook runs them).
CHANGE_GUARD = "No result predicts a change"
WRITE_GUARD = "Nothing was written to the cabinet"
POINTS_ACTION = "modulkassa.pos.retail_points"
REGISTER_ACTION = "modulkassa.pos.register"


class Molecule:
    """Runs molecule (or ansible-playbook with molecule's config) in one private HOME; keeps the records."""

    def __init__(self, home: Path):
        self.home = home
        self.ephemeral = home / "molecule-ephemeral"
        self.results = home / "results.jsonl"
        self.runs = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MODULKASSA_", "MOLECULE_"))}
        self.env.update({
            "HOME": str(home),
            # Molecule keeps its ephemeral directory under ANSIBLE_HOME/tmp; name it, so the tests can find
            # the sandbox (and clean it up if molecule dies). One directory for all scenarios (shared_state).
            "ANSIBLE_HOME": str(home / ".ansible"),
            "MOLECULE_EPHEMERAL_DIRECTORY": str(self.ephemeral),
            "PATH": "%s%s%s" % (VENV_BIN, os.pathsep, self.env.get("PATH", "")),
            "VIRTUAL_ENV": str(VENV_BIN.parent),
            "NO_COLOR": "1",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "test_results",
            "MK_TEST_RESULTS": str(self.results),
            "PYTHONUNBUFFERED": "1",
        })

    def run(self, *args: str, command=None, extra_env=None, timeout: float = 600) -> subprocess.CompletedProcess:
        """``molecule <args>`` (or ``command``) from the repository root; stdout and stderr together."""
        self.results.unlink(missing_ok=True)  # each run's records alone
        command = command or [str(MOLECULE), *args]
        env = dict(self.env, **(extra_env or {}))
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            pytest.fail("%s timed out after %ss\n%s" % (" ".join(command), timeout, output[-6000:]), pytrace=False)
        self.runs += 1
        # The whole output stays in the test's tmp_path (pytest keeps the last three): the tail is in the report.
        (self.home / ("run-%d.log" % self.runs)).write_text(output, encoding="utf-8")
        return subprocess.CompletedProcess(command, process.returncode, output, "")

    def tasks(self, name: str | None = None, action: str | None = None) -> list:
        """The records of the last run's tasks named ``name`` or running ``action``: [{host, status, result, ...}]."""
        if not self.results.exists():
            return []
        records = [json.loads(line) for line in self.results.read_text(encoding="utf-8").splitlines()]
        return [r for r in records if r["type"] == "task" and name in (None, r["task"]) and action in (None, r["action"])]

    @property
    def sandbox(self) -> Path:
        return self.ephemeral / "sandbox"

    def cabinet_url(self) -> str:
        with open(self.ephemeral / "inventory" / "sandbox" / "cabinet.yml", encoding="utf-8") as handle:
            return yaml.safe_load(handle)["all"]["vars"]["modulkassa_url"]

    def stop_sandbox(self) -> None:
        """What destroy.yml does, for a run that died before its destroy step."""
        if self.sandbox.is_dir():
            for part in ("registers", "cabinet"):
                subprocess.run([sys.executable, "-m", "sandbox", part, "stop", "--data-dir", str(self.sandbox)],
                               cwd=REPO_ROOT, capture_output=True, timeout=120, check=False)


def tail(run: subprocess.CompletedProcess, chars: int = 8000) -> str:
    return "%s -> rc %s\n--- output (tail) ---\n%s" % (" ".join(map(str, run.args)), run.returncode, run.stdout[-chars:])


@pytest.fixture
def molecule(tmp_path):
    runner = Molecule(tmp_path)
    yield runner
    runner.stop_sandbox()


@pytest.mark.slow
def test_molecule_test_all(molecule):
    """`molecule test --all`: the default scenario's create, then retail_points and registers (converge,
    idempotence, verify, check), then destroy. The exit status decides; the records show the steps really
    converged something and that each check step's guard ran and passed."""
    run = molecule.run("test", "--all")
    assert run.returncode == 0, tail(run)

    # The first converge of each scenario changed the cabinet and the registers; later runs did not.
    points = molecule.tasks(action=POINTS_ACTION)
    assert [t["status"] for t in points].count("changed") == 2, points  # one per scenario, its first converge
    binds = molecule.tasks(action=REGISTER_ACTION)
    assert sorted(t["host"] for t in binds if t["status"] == "changed") == ["reg01", "reg02"], binds
    assert all(t["status"] in ("ok", "changed") for t in points + binds), points + binds

    # One check step per scenario, each ending in the guards (check mode only: skipped in converge and
    # idempotence), which asserted no predicted change and no cabinet write.
    for guard in (CHANGE_GUARD, WRITE_GUARD):
        statuses = [t["status"] for t in molecule.tasks(guard)]
        assert sorted(statuses) == ["ok"] * 2 + ["skipped"] * 4, (guard, statuses)

    # destroy ran: the sandbox of this run is gone.
    assert not molecule.sandbox.exists()


@pytest.mark.slow
def test_molecule_check_after_converge(molecule):
    """`molecule converge`, then `molecule check` on the sandbox it left running. In between, the cabinet
    drifts, and a bare --check of the scenario's converge.yml must fail on the guard (so the guard is not
    vacuous) and write nothing; `molecule check` itself converges first, so it passes."""
    converge = molecule.run("converge", "-s", "retail_points")
    assert converge.returncode == 0, tail(converge)
    assert molecule.sandbox.is_dir(), "converge must leave the sandbox running"

    url = molecule.cabinet_url()
    with httpx.Client(base_url=url, auth=DEMO, timeout=10) as api:
        point = next(p for p in api.get("/api/v1/retail-points").json() if p["name"].startswith("Molecule P1 "))
        api.put("/api/v1/retail-point/%s" % point["id"], json={"address": "drifted by hand"}).raise_for_status()
        writes_before = _writes(api)

        # ansible-playbook --check with exactly what molecule gives its runs: its ansible.cfg and inventory
        # directory, the scenario's environment (../config.yml: collection path, credentials).
        drifted = molecule.run(command=[
            str(VENV_BIN / "ansible-playbook"), "--check", "-i", str(molecule.ephemeral / "inventory"),
            str(REPO_ROOT / "extensions/molecule/retail_points/converge.yml")],
            extra_env={"ANSIBLE_CONFIG": str(molecule.ephemeral / "ansible.cfg"),
                       "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".tmp/molecule-collections"),
                       "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1]})
        assert drifted.returncode != 0, tail(drifted)
        guard = molecule.tasks(CHANGE_GUARD)
        assert [t["status"] for t in guard] == ["failed"], tail(drifted)
        # It names the host and the point that would change.
        messages = [item["msg"] for item in guard[0]["result"]["results"] if item.get("evaluated_to") is False]
        assert messages == ['localhost: the check run after converge predicts changes to ["%s"]' % point["name"]], guard
        assert _writes(api) == writes_before

    check = molecule.run("check", "-s", "retail_points")
    assert check.returncode == 0, tail(check)
    for guard in (CHANGE_GUARD, WRITE_GUARD):
        assert [t["status"] for t in molecule.tasks(guard)] == ["skipped", "ok"], tail(check)
    # check_sequence: converge repaired the drift (a change), then the --check converge predicted none.
    assert [t["status"] for t in molecule.tasks(action=POINTS_ACTION)] == ["changed", "ok"], tail(check)
    # The default scenario's check_sequence ends in destroy.
    assert not molecule.sandbox.exists()


def _writes(api: httpx.Client) -> int:
    counters = api.get("/api/_emu/counters").json()
    return sum(n for routes in counters.values() for route, n in routes.items()
               if route.split(" ", 1)[0] in ("POST", "PUT", "PATCH", "DELETE"))
