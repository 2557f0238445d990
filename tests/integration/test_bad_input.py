# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input (issue 6): the corpus in ``data/bad_input/module_args.yml`` (wrong types, empty and huge strings,
control and invisible characters, SQL and shell metacharacters, invalid INN checksums, unknown keys, unknown
points) runs as one playbook, one task per case. Every case fails its own task with a message naming the
field, without a traceback, and the emulator's counters prove that no request was made before the rejection
(unknown points: reads only, no write). Malformed YAML fails the run before any request too.

Fleet files (group_vars validated by ``modulkassa.pos.fleet_validate``) have their own corpus (issue 4,
test_fleet.py); here every point case also runs through ``fleet_validate`` as ``modulkassa_points`` data, which must
reject the same point: data that passes site.yml's validation must not fail later in ``retail_points``.
"""

from __future__ import annotations

import json
import os
import re
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import DEMO, dump, env_for, once_per_session, play  # noqa: E402

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "bad_input", "module_args.yml")


def _expand(value):
    """``{$repeat: [text, n]}`` -> text * n, anywhere in the case's arguments."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, times = value["$repeat"]
            return text * times
        return dict((key, _expand(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def _load_cases():
    with open(CORPUS, encoding="utf-8") as handle:
        cases = yaml.safe_load(handle)["cases"]
    assert len({case["id"] for case in cases}) == len(cases), "case ids must be unique"
    return cases


CASES = _load_cases()
# The point cases again, as fleet data (modulkassa_points) for modulkassa.pos.fleet_validate: what site.yml's
# validation lets through must not fail later in retail_points, so both must reject the same points.
FLEET_CASES = [case for case in CASES if case["module"] == "retail_points" and case["field"].startswith("points")
               and set(case["args"]) == {"points"}]


def _fleet_task(case):
    return {"name": "fleet %s" % case["id"], "modulkassa.pos.fleet_validate": {}, "ignore_errors": True,
            "vars": {"modulkassa_points": _expand(case["args"]["points"])}}


def _task(case, agent_path):
    args = _expand(case["args"])
    if case["module"] == "register":
        args.setdefault("agent_path", agent_path)  # only the unknown-point cases get as far as the agent
    return {"name": "case %s" % case["id"], "modulkassa.pos.%s" % case["module"]: args, "ignore_errors": True}


@pytest.fixture(scope="module")
def corpus_run(request, tmp_path_factory, run_playbook_module):
    def produce():
        cabinet, registers = request.getfixturevalue("cabinet"), request.getfixturevalue("registers")
        agent_path = registers.hosts["reg01"]["modulkassa_agent_path"]
        counters = {"name": "counters", "ansible.builtin.uri": {"url": cabinet.url + "/api/_emu/counters"}}
        tasks = ([_task(case, agent_path) for case in CASES if not case.get("reads")]
                 + [_fleet_task(case) for case in FLEET_CASES] + [counters]
                 + [_task(case, agent_path) for case in CASES if case.get("reads")])
        cabinet.reset_counters()
        # Credentials from the environment, as AWX injects them: at -vvv ansible-core prints the playbook lines
        # around a failed task ("Origin: ..."), so a password written into the playbook itself would be shown.
        run = run_playbook_module(dump(play(tasks)), verbosity=3, env=env_for(cabinet))
        return [run, cabinet.counters()]

    return once_per_session(tmp_path_factory, "bad-input-corpus", produce)


@pytest.fixture(scope="module")
def run_playbook_module(ansible_env, tmp_path_factory):
    """``run_playbook`` for a module-scoped fixture: the corpus runs once, each case is its own test."""
    import subprocess

    workdir = tmp_path_factory.mktemp("bad-input")

    def run(playbook, verbosity=0, env=None):
        (workdir / "playbook.yml").write_text(playbook, encoding="utf-8")
        inventory = workdir / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
        env = dict(ansible_env, MK_TEST_RESULTS=str(workdir / "results.jsonl"), **(env or {}))
        command = [sys.executable, "-m", "ansible.cli.playbook", "playbook.yml", "-i", str(inventory)]
        if verbosity:
            command.append("-" + "v" * verbosity)
        done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)
        (workdir / "stdout.txt").write_text(done.stdout + "\n--- stderr ---\n" + done.stderr, encoding="utf-8")
        results = (workdir / "results.jsonl").read_text(encoding="utf-8")
        records = [json.loads(line) for line in results.split("\n") if line]  # not splitlines(): U+2028 in a value
        tasks = dict((r["task"], r) for r in records if r.get("type") == "task")
        return {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "tasks": tasks}

    return run


def test_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert {case["module"] for case in CASES} == {"retail_points", "retail_point", "retail_point_info", "register"}


def test_no_request_before_rejection(corpus_run):
    run, counters_after = corpus_run
    before_reads = run["tasks"]["counters"]["result"]["json"]
    assert before_reads == {}, "a rejected case made a request: %s" % before_reads
    # After the counters task only the unknown-point cases ran: the register's agent may read its bindings
    # (<device>), the plugin reads the cabinet; nobody writes.
    assert set(counters_after) <= {DEMO[0], "<device>"}
    assert all(key.startswith("GET ") for who in counters_after.values() for key in who), "an unknown point led to a write"
    assert "Traceback" not in run["stdout"] + run["stderr"]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case_is_rejected_with_its_field(corpus_run, case):
    run, dummy = corpus_run
    record = run["tasks"]["case %s" % case["id"]]
    result = record["result"]
    msg = result.get("msg", "")
    assert record["status"] == "failed", result
    assert case["field"] in msg, msg
    if "field" in result:
        assert result["field"] == case["field"]
    if case.get("expect"):
        assert case["expect"] in msg, msg
    # At -vvv Ansible adds "exception": "(traceback unavailable)" to any failure that raised nothing.
    assert "Traceback" not in msg and result.get("exception", "(traceback unavailable)") == "(traceback unavailable)"
    assert len(msg) < 1500, "the message repeats the (huge) input"
    for secret in [DEMO[1]] + ([case["never"]] if case.get("never") else []):
        assert secret not in run["stdout"] + run["stderr"], "a secret of the input was echoed"


@pytest.mark.parametrize("case", FLEET_CASES, ids=[case["id"] for case in FLEET_CASES])
def test_fleet_validation_rejects_the_same_point(corpus_run, case):
    run, dummy = corpus_run
    record = run["tasks"]["fleet %s" % case["id"]]
    assert record["status"] == "failed", record["result"]
    element = "modulkassa_" + re.match(r"points(\[\d+\])?", case["field"]).group(0)
    paths = [error["path"] for error in record["result"]["errors"]]
    assert any(path.startswith(element) for path in paths), (element, paths)


@pytest.mark.parametrize("broken", [
    # an unclosed quote in a task's arguments
    "- hosts: localhost\n  tasks:\n    - modulkassa.pos.retail_points:\n        points: [{name: \"Shop 1}]\n",
    # a tab in the indentation
    "- hosts: localhost\n  tasks:\n\t- modulkassa.pos.retail_point_info: {}\n",
], ids=["unclosed-quote", "tab-indent"])
def test_malformed_yaml_fails_before_any_request(cabinet, run_playbook, broken):
    cabinet.reset_counters()
    run = run_playbook(broken, env={"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0],
                                    "MODULKASSA_PASSWORD": DEMO[1]})
    assert run.rc != 0 and run.tasks == []
    # 2.19+: "YAML parsing failed ... playbook.yml:3:5"; older cores (which also wrap lines): "unable to read either
    # as JSON nor YAML ... The error appears to be in '.../playbook.yml': line 3, column 5"
    stderr = " ".join(run.stderr.split())
    assert re.search(r"YAML parsing failed|unable to read either as JSON nor YAML", stderr), run.stderr[-2000:]
    assert re.search(r"playbook\.yml:\d+:\d+|playbook\.yml': line \d+, column \d+", stderr), \
        "no position given: %s" % run.stderr[-2000:]
    assert cabinet.counters() == {}
