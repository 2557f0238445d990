# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the shipped example rulebook under a real ``ansible-rulebook`` against the sandbox cabinet.

The collection is built with ``ansible-galaxy collection build`` and installed from the tarball, so the test also
proves that the event source and the rulebook ship; ``ansible-rulebook -r modulkassa.pos.cabinet_changes`` finds
both on the collections path, as a user's would. A hand edit in the cabinet must make the rulebook run the collection's audit playbook
(its default action) within a bounded time, and the audit's drift report must name the edited field; a health
change must reach the rulebook's notification rule. ansible-rulebook and its Java-backed rule engine are
installed from ``requirements-eda.txt`` into ``.tmp/eda-venv`` by the ``rulebook_venv`` fixture (once; a stamp
skips the install while nothing changed).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from eda_helpers import WATCHED, edit_point, new_point, set_health, wait_for_polls  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
REQUIREMENTS = os.path.join(HERE, "requirements-eda.txt")
VENV = os.path.join(REPO_ROOT, ".tmp", "eda-venv")
STAMP = os.path.join(VENV, ".mk-eda-stamp")

# How long a hand edit may take to become the rulebook's action (the audit's drift report on disk): one poll
# interval (0.5 s here), the rule engine, ansible-runner and one check-mode audit playbook, on a loaded 2-core box.
ACTION_WITHIN_S = 60


def _java_home():
    """JAVA_HOME for the rule engine: the environment's, else the JDK behind ``java`` on PATH (must be >= 17)."""
    java = shutil.which("java") if not os.environ.get("JAVA_HOME") else os.path.join(os.environ["JAVA_HOME"], "bin", "java")
    if not java or not os.path.exists(java):
        pytest.fail("ansible-rulebook needs a Java 17 runtime: none found (Debian: apt-get install openjdk-17-jre-headless)",
                    pytrace=False)
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', version)
    if not match or int(match.group(1)) < 17:
        pytest.fail("ansible-rulebook needs Java 17 or later; %s says: %s" % (java, version.strip()), pytrace=False)
    return os.environ.get("JAVA_HOME") or os.path.dirname(os.path.dirname(os.path.realpath(java)))


def _stamp():
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, os.path.join(REPO_ROOT, "requirements.txt")):
        with open(path, "rb") as handle:
            digest.update(handle.read())
    digest.update(sys.version.encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def rulebook_venv():
    """``.tmp/eda-venv`` with requirements-eda.txt installed; shared by the xdist workers (a file lock)."""
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    with open(VENV + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = _stamp()
        if os.path.exists(STAMP) and open(STAMP).read().split()[0] == wanted:
            return VENV
        shutil.rmtree(VENV, ignore_errors=True)
        started = time.monotonic()
        # uv when the test venv has it (bootstrap's installer, in requirements-dev.txt): seconds instead of half a
        # minute of pip. Byte-compiled at install, as pip does: with PYTHONDONTWRITEBYTECODE set (CI machines set
        # it), a venv without .pyc files compiles ansible-rulebook's imports again in every run.
        uv = shutil.which("uv", path=os.path.dirname(sys.executable))
        python = os.path.join(VENV, "bin", "python")
        if uv:
            subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, VENV], check=True)
            steps = ([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python, "-r", REQUIREMENTS],
                     [uv, "pip", "check", "--quiet", "--python", python])
        else:
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
            pip = [python, "-m", "pip", "--disable-pip-version-check"]
            steps = (pip + ["install", "--quiet", "-r", REQUIREMENTS], pip + ["check"])
        for command in steps:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                pytest.fail("%s failed:\n%s\n%s" % (" ".join(command), result.stdout[-3000:], result.stderr[-3000:]),
                            pytrace=False)
        with open(STAMP, "w") as handle:  # the second field: the cold install's seconds, for docs/eda.md
            handle.write("%s %.1f\n" % (wanted, time.monotonic() - started))
    return VENV


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory):
    """The collections path holding modulkassa.pos installed from a freshly built tarball."""
    work = tmp_path_factory.mktemp("eda-collection")
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith("ANSIBLE_"))
    env["ANSIBLE_HOME"] = str(work / "ansible-home")

    def galaxy(*args):
        command = [sys.executable, "-m", "ansible.cli.galaxy", "collection"] + list(args)
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(work), check=False)
        assert result.returncode == 0, "%s:\n%s\n%s" % (" ".join(command), result.stdout, result.stderr)

    galaxy("build", "--force", "--output-path", str(work / "dist"), REPO_ROOT)
    (tarball,) = (work / "dist").glob("modulkassa-pos-*.tar.gz")
    galaxy("install", "--force", "--no-deps", "-p", str(work / "collections"), str(tarball))
    installed = work / "collections" / "ansible_collections" / "modulkassa" / "pos"
    for shipped in ("extensions/eda/plugins/event_source/cabinet_changes.py", "extensions/eda/rulebooks/cabinet_changes.yml"):
        assert (installed / shipped).is_file(), "the tarball does not ship %s (galaxy.yml)" % shipped
    return work / "collections"


class Rulebook(object):
    """A running ``ansible-rulebook``: its output file, and a stop that reaches its children."""

    def __init__(self, command, env, workdir):
        self.output_path = os.path.join(workdir, "ansible-rulebook.out")
        with open(self.output_path, "w") as out:
            self.process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self):
        with open(self.output_path, errors="replace") as handle:
            return handle.read()

    def wait_for_output(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while needle not in self.output():
            self.check_alive()
            assert time.monotonic() < deadline, "%r not in the output within %s s:\n%s" % (
                needle, timeout, self.output()[-4000:])
            time.sleep(0.2)

    def check_alive(self):
        assert self.process.poll() is None, "ansible-rulebook exited with %s:\n%s" % (
            self.process.returncode, self.output()[-4000:])

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # ansible-runner's children, if any outlived it
        except ProcessLookupError:
            pass


def _read_report(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None  # not there yet, or being written


@pytest.mark.slow
def test_a_hand_edit_runs_the_audit_through_the_example_rulebook(rulebook_venv, installed_collection, cabinet, tmp_path):
    api = cabinet.api(WATCHED)
    name = "EDA e2e %s" % uuid.uuid4().hex[:6]
    point = new_point(api, name=name)
    declared = {"name": name, "address": point["address"], "inn": point["inn"]}
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "hosts": {"localhost": {"ansible_connection": "local",
                                "ansible_python_interpreter": os.path.join(rulebook_venv, "bin", "python")}},
        "vars": {"modulkassa_points": [declared]}}}), encoding="utf-8")
    variables = tmp_path / "watch.yml"
    variables.write_text("modulkassa_watch_interval: 0.5\n", encoding="utf-8")
    report = tmp_path / "drift.json"

    env = dict((key, value) for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "MODULKASSA_")))
    env.update({
        "PATH": os.path.join(rulebook_venv, "bin") + os.pathsep + env.get("PATH", ""),
        "JAVA_HOME": _java_home(),
        "ANSIBLE_COLLECTIONS_PATH": str(installed_collection),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CALLBACKS_ENABLED": "modulkassa.pos.drift_report",
        "MODULKASSA_DRIFT_REPORT_JSON": str(report),
        "MODULKASSA_DRIFT_REPORT_DIR": str(tmp_path / "drift-report"),
        "MODULKASSA_URL": cabinet.url,
        "MODULKASSA_LOGIN": WATCHED,
        "MODULKASSA_PASSWORD": cabinet.accounts[WATCHED],
        "PYTHONUNBUFFERED": "1",
    })
    command = [os.path.join(rulebook_venv, "bin", "ansible-rulebook"), "--rulebook", "modulkassa.pos.cabinet_changes",
               "--inventory", str(inventory), "--vars", str(variables), "--print-events"]
    started = time.monotonic()
    rulebook = Rulebook(command, env, str(tmp_path))
    try:
        wait_for_polls(cabinet, 3, timeout=120)  # the JVM is up, the baseline taken, two polls since
        startup_s = time.monotonic() - started
        rulebook.check_alive()
        assert not report.exists(), "the baseline must not run the audit"

        edit_point(api, point["id"], address="Changed by hand")
        edited_at = time.monotonic()
        while True:
            found = _read_report(report)
            if found is not None:
                break
            rulebook.check_alive()
            assert time.monotonic() - edited_at < ACTION_WITHIN_S, \
                "no audit within %s s of the hand edit:\n%s" % (ACTION_WITHIN_S, rulebook.output()[-4000:])
            time.sleep(0.1)
        action_s = time.monotonic() - edited_at

        assert found["mode"] == "check" and found["status"] == "drift"
        assert found["playbook"] == str(installed_collection / "ansible_collections/modulkassa/pos/playbooks/audit.yml")
        (row,) = found["retail_points"]
        assert (row["id"], row["name"]) == (point["id"], name)
        assert row["changes"] == {"address": {"before": "Changed by hand", "after": point["address"]}}

        set_health(cabinet, point["id"], kkt_status="FN_NOT_PLUGGED")  # the notification rule
        rulebook.wait_for_output("%s (register None): {'kkt_status': {'before': 'KKT_NOT_PLUGGED', "
                                 "'after': 'FN_NOT_PLUGGED'}}" % name, timeout=30)
    finally:
        rulebook.stop()

    output = rulebook.output()
    assert cabinet.accounts[WATCHED] not in output
    assert "'type': 'point_edited'" in output  # --print-events shows the event the audit ran for
    print("ansible-rulebook: up and polling after %.1f s; hand edit -> audit report in %.1f s" % (startup_s, action_s))
