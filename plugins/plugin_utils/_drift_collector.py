# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report's collector: what a playbook run changed (or, in check mode, would change), as one report.

``DriftCollector`` takes task results as the ``modulkassa.pos.drift_report`` callback receives them and builds one
report dict: per retail point and per register, each field before -> after (from the ``changes`` our plugins
return, D12), other changed tasks, failures and unreachable hosts, the verdict and its exit code, and the register
health of every point the run read (``health``, from ``module_utils/_health.py``: not drift). Every result is
learnt by, and the report masked with, the secret masker (``_drift_masker.py``); ``_drift_markdown.py`` renders
the report for people, ``_drift_summary.py`` reduces it for ``set_stats``. Pure Python, no Ansible objects, so
unit tests drive it with plain dicts.
"""

from __future__ import annotations

import datetime
import difflib
import json

import yaml

from ansible_collections.modulkassa.pos.plugins.module_utils._health import (
    KKT_FIELD,
    REGISTRATION_FIELD,
    TROUBLE_SEVERITIES,
    at_least,
    register_serial_of,
    statuses_of,
    summarize,
)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_masker import SecretMasker

FORMAT = "modulkassa.pos.drift_report/1"
COLLECTION_PREFIX = "modulkassa.pos."

EXIT_NO_DRIFT, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2
# Only when asked (fail_on_health): the run has no error, and a point's health is that bad (docs/gitops.md).
EXIT_HEALTH = 3
FAIL_ON_HEALTH_CHOICES = TROUBLE_SEVERITIES
MESSAGE_LIMIT = 1000
DIFF_LIMIT = 4000
POINT_ACTIONS = ("create", "update", "delete")
# A point a purge would delete but one of its guards keeps (retail_points' ``keep``): reported, never drift, since
# no run would change it (the guard keeps it again) - declaring it or excluding it is the user's decision.
KEPT_ACTION = "keep"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _short(text, limit):
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + " ... (%d more characters)" % (len(text) - limit)


def _message_of(result):
    if result.get("censored"):
        return "the output was hidden (no_log: true)"
    msg = result.get("msg") or result.get("message") or result.get("reason")
    if not msg and result.get("stderr"):
        msg = result["stderr"]
    if not msg and result.get("exception"):
        msg = str(result["exception"]).strip().splitlines()[-1:]
        msg = msg[0] if msg else ""
    return _short(msg if isinstance(msg, str) else json.dumps(msg, default=str), MESSAGE_LIMIT)


def _diff_text(diff):
    """A unified diff text of an Ansible ``diff`` result entry (or list of entries)."""
    entries = diff if isinstance(diff, list) else [diff]
    chunks = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if entry.get("prepared"):
            chunks.append(str(entry["prepared"]))
            continue
        before, after = entry.get("before", ""), entry.get("after", "")
        if before == after:
            continue
        before, after = [v if isinstance(v, str) else yaml.safe_dump(v, allow_unicode=True, sort_keys=False)
                         for v in (before, after)]
        chunks.append("".join(difflib.unified_diff(
            before.splitlines(True), after.splitlines(True),
            str(entry.get("before_header", "before")), str(entry.get("after_header", "after")))))
    return "\n".join(chunk for chunk in chunks if chunk.strip())


def _loop_items(result):
    items = result.get("results")
    if isinstance(items, list) and items and all(isinstance(i, dict) and "ansible_loop_var" in i for i in items):
        return items
    return None


_ACTION_IDENTITY = ("action", "id", "retail_point", "previous_register")


def _action_key(action):
    return tuple(action.get(key) for key in _ACTION_IDENTITY) if isinstance(action, dict) else (repr(action),)


def _merge_action(actions, action):
    """Add a register's action to its row once. The same action seen again (serial batches audit a register once
    each; a saved plan's apply verifies each register in check mode before it binds) is one action, and what was
    done supersedes what was predicted: an applied row does not also list the prediction."""
    for index, earlier in enumerate(actions):
        if _action_key(earlier) == _action_key(action):
            if isinstance(earlier, dict) and earlier.get("outcome") == "predicted" and action.get("outcome") != "predicted":
                actions[index] = action
            return
    actions.append(action)


class DriftCollector(object):
    """Accumulates task results; ``report()`` returns the report dict (already masked)."""

    def __init__(self, masker=None, fail_on_health=None):
        if fail_on_health is not None and fail_on_health not in FAIL_ON_HEALTH_CHOICES:
            raise ValueError("fail_on_health must be one of %s, not %r"
                             % (", ".join(FAIL_ON_HEALTH_CHOICES), fail_on_health))
        self.masker = masker or SecretMasker()
        self.fail_on_health = fail_on_health
        self.playbook = None
        self.started_at = _now()
        self.cli_check_mode = None
        # Whether each play of the run is in check mode, as known when the playbook starts (None: not known).
        self.play_check_modes = None
        self.points = {}  # key -> entry, in first-seen order (dicts keep insertion order)
        self.registers = {}  # host -> entry
        self.other_changes = []
        self.notices = []  # per point: what the cabinet holds that should change (an abolished tax mode); not drift
        self.kept = []  # per point: kept by the purge guards, with the reason; not drift
        self.failures = []
        self.unreachable = []
        self.tasks = []  # one record per result of a collection plugin
        self.stats = {}
        self.seen = {}  # host -> the kinds of result the callback was given: "changed", "failed", "unreachable", ...
        self.health = {}  # point id -> the last read of its health in this run (_health.summarize's records)
        self.register_hosts = {}  # serial -> inventory host, of the registers the run reached

    # -- input -----------------------------------------------------------------------------------------

    def add(self, host, task, action, status, result, check_mode=None, ignored=False):
        """One task result as a callback sees it. ``status``: ok, changed, failed, skipped, unreachable."""
        result = dict(result or {})
        self.masker.learn(result)
        seen = self.seen.setdefault(host, set())
        seen.add(status)
        if result.get("changed"):
            seen.add("changed")  # a failed task may have changed something: the recap counts it as changed too
        if status == "unreachable":
            self.unreachable.append({"host": host, "task": task, "msg": _message_of(result)})
            if str(action or "") == COLLECTION_PREFIX + "register":
                # A register whose connection was lost mid-task still tells what was done before it (and what not).
                self._register(host, task, result)
            return
        if status == "skipped":
            return
        items = _loop_items(result)
        if items is not None:
            failed_items = False
            for item in items:
                item_failed = bool(item.get("failed"))
                failed_items = failed_items or item_failed
                item_status = "failed" if item_failed else ("skipped" if item.get("skipped") else
                                                            "changed" if item.get("changed") else "ok")
                label = item.get("_ansible_item_label", item.get(item.get("ansible_loop_var", "item")))
                if not isinstance(label, str):
                    label = json.dumps(label, default=str, ensure_ascii=False)
                label = "%s (%s)" % (task, _short(label, 80))
                self._add_one(host, label, action, item_status, item, check_mode, ignored)
            if status == "failed" and not failed_items:
                self._add_failure(host, task, action, result, ignored)
            return
        self._add_one(host, task, action, status, result, check_mode, ignored)

    def _add_one(self, host, task, action, status, result, check_mode, ignored):
        if status == "skipped":
            return
        ours = str(action or "").startswith(COLLECTION_PREFIX)
        changed = bool(result.get("changed")) or status == "changed"
        short = action[len(COLLECTION_PREFIX):] if ours else None
        if ours:
            # Each task's own check mode is recorded, not used for the report's mode (which is the run's).
            self.tasks.append({"host": host, "task": task, "action": action, "status": status, "changed": changed,
                               "check_mode": check_mode})
        if status == "failed":
            self._add_failure(host, task, action, result, ignored)
        if short == "retail_points":
            self._retail_points(host, task, result)
        elif short == "retail_point":
            self._retail_point(host, task, result)
        elif short == "register":
            self._register(host, task, result)
        elif short == "bindings_audit":  # one result for the whole fleet: an entry per register, shaped like register's
            for entry in result.get("registers") or []:
                if isinstance(entry, dict):
                    self._register(entry.get("host") or entry.get("serial"), task, entry)
        elif short == "retail_point_info":
            for point in result.get("points") or []:
                self._point_health(point)
        elif changed or (not ours and _diff_text(result.get("diff"))):
            self.other_changes.append({
                "host": host, "task": task, "action": action, "changed": changed,
                "diff": _short(_diff_text(result.get("diff")), DIFF_LIMIT) or None,
            })

    def _add_failure(self, host, task, action, result, ignored):
        self.failures.append({"host": host, "task": task, "action": action, "msg": _message_of(result),
                              "ignored": bool(ignored)})

    def _point_entry(self, name, point_id):
        key = point_id or name
        for existing_key, entry in self.points.items():
            if (point_id and entry.get("id") == point_id) or (name and entry.get("name") == name):
                key = existing_key
                break
        return self.points.setdefault(key, {"name": name, "id": point_id, "action": None, "outcome": None,
                                            "changes": {}, "tasks": []})

    def _add_point(self, host, task, name, point_id, action, outcome, changes, error=None):
        entry = self._point_entry(name, point_id)
        entry["name"] = entry["name"] or name
        entry["id"] = entry["id"] or point_id
        if action in POINT_ACTIONS or not entry["action"]:
            entry["action"] = action
        entry["outcome"] = outcome or entry["outcome"]
        entry["changes"].update(changes or {})
        if error:
            entry["error"] = _short(error, MESSAGE_LIMIT)
        task_ref = "%s: %s" % (host, task)
        if task_ref not in entry["tasks"]:
            entry["tasks"].append(task_ref)

    def _add_notices(self, name, point_id, notices):
        for notice in notices if isinstance(notices, list) else []:
            entry = {"name": name, "id": point_id, "notice": _short(str(notice), MESSAGE_LIMIT)}
            if entry not in self.notices:  # an audit can see the same point in several tasks
                self.notices.append(entry)

    def _add_kept(self, item):
        entry = {"name": item.get("name"), "id": item.get("id"),
                 "guards": [str(g) for g in item.get("guards") or [] if isinstance(g, str)],
                 "reason": _short(str(item.get("reason") or "kept by a purge guard"), MESSAGE_LIMIT)}
        if entry not in self.kept:  # an audit can see the same point in several tasks
            self.kept.append(entry)

    # -- health: every read of a point's statuses, the last one kept (not drift) ---------------------------

    def _add_health(self, point_id, name, register_serial, kkt_status, registration_status):
        if not point_id:
            return
        self.health[str(point_id)] = {"id": str(point_id), "name": name, "register_serial": register_serial,
                                      KKT_FIELD: str(kkt_status), REGISTRATION_FIELD: str(registration_status)}

    def _point_health(self, point):
        """A cabinet point as plugins return it (``point``, ``points[]``): its own kktStatus and registration."""
        if isinstance(point, dict) and point.get("id"):
            kkt_status, registration_status = statuses_of(point)
            self._add_health(point["id"], point.get("name"), register_serial_of(point), kkt_status, registration_status)

    def _result_health(self, item):
        """A ``retail_points`` result entry: ``health`` and ``activation`` instead of the point itself."""
        health = item.get("health")
        if not isinstance(health, dict) or KKT_FIELD not in health:
            return
        activation = item.get("activation") if isinstance(item.get("activation"), dict) else {}
        serial = activation.get("register_serial") if activation.get("active") else None
        self._add_health(item.get("id"), item.get("name"), serial, health[KKT_FIELD], health.get(REGISTRATION_FIELD))

    def _register_health(self, host, result):
        """``register`` (and each register of the cabinet-only audit): the points it holds or declares."""
        serial = result.get("serial")
        if serial and host and result.get("declared") is not False:  # not a register the inventory lacks
            self.register_hosts[str(serial)] = host
        health = result.get("health") if isinstance(result.get("health"), dict) else {}
        for entry in health.get("points") or []:
            if isinstance(entry, dict) and KKT_FIELD in entry:
                self._add_health(entry.get("id"), entry.get("name"), entry.get("register_serial"), entry[KKT_FIELD],
                                 entry.get(REGISTRATION_FIELD))

    def _retail_points(self, host, task, result):
        for item in result.get("results") or []:
            if isinstance(item, dict):
                self._add_notices(item.get("name"), item.get("id"), item.get("notices"))
                self._result_health(item)
                if item.get("action") == KEPT_ACTION:
                    self._add_kept(item)
            if not isinstance(item, dict) or item.get("action") not in POINT_ACTIONS:
                continue
            self._add_point(host, task, item.get("name"), item.get("id"), item.get("action"), item.get("outcome"),
                            item.get("changes"), item.get("error"))

    def _retail_point(self, host, task, result):
        self._add_notices(result.get("name"), result.get("id"), result.get("notices"))
        self._point_health(result.get("point"))
        changes = result.get("changes")
        if not changes and not result.get("changed"):
            return
        point = result.get("point") if isinstance(result.get("point"), dict) else {}
        self._add_point(host, task, result.get("name") or point.get("name"), result.get("id"),
                        result.get("action"), "predicted" if not result.get("failed") else "failed", changes,
                        result.get("msg") if result.get("failed") else None)

    def _register(self, host, task, result):
        self._register_health(host, result)
        changes = result.get("changes") or {}
        actions = result.get("actions") or []
        if not changes and not actions:
            return
        entry = self.registers.setdefault(host, {"host": host, "serial": result.get("serial"), "changes": {},
                                                 "actions": [], "tasks": []})
        entry["changes"].update(changes)
        for action in actions:
            _merge_action(entry["actions"], action)
        if result.get("declared") is False:  # bindings_audit: a register the inventory does not have
            entry["declared"] = False
        if task not in entry["tasks"]:
            entry["tasks"].append(task)
        if result.get("failed") or result.get("unreachable"):
            entry["error"] = _message_of(result)

    def set_stats(self, stats):
        """The play recap (``{host: {ok, changed, failures, unreachable, ...}}``): ansible-core's own counts."""
        self.stats = dict(stats)

    def recap_disagreements(self, field_changes, failures):
        """What the play recap counts and this report did not see; each entry makes the report an error.

        The recap comes from ansible-core's own statistics, not from the results this callback was handed. When
        the two disagree the callback missed results (an exception in it, which ansible-core turns into a mere
        warning, or a result shape it does not know), and a verdict built on what it saw could say "no drift"
        while changes are pending: the worst answer an audit can give.
        """
        problems = []
        for host in sorted(self.stats):
            counts, seen = self.stats[host], self.seen.get(host, set())
            for key, kind, what in (("changed", "changed", "changed"), ("failures", "failed", "failed"),
                                    ("unreachable", "unreachable", "unreachable")):
                if counts.get(key) and kind not in seen:
                    problems.append("%s: the play recap counts %s=%d, but the report was given no %s result"
                                    % (host, key, counts[key], what))
        recap_changed = sum(counts.get("changed", 0) for counts in self.stats.values())
        if not problems and recap_changed and not field_changes and not failures:
            problems.append("the play recap counts %d changed task(s), but the report found no change to show"
                            % recap_changed)
        return problems

    # -- output ----------------------------------------------------------------------------------------

    def mode(self):
        """``check`` or ``apply``, from the run itself, never from which tasks ran (docs/gitops.md "The report").

        The run is in check mode when every play is: ``--check`` on the command line, or ``check_mode: true``
        declared by the play (a play that declares ``check_mode: false`` writes even under ``--check``). A
        template as a play's check_mode is not known at the start, so it counts as apply: a report must never
        say "nothing was changed" of a run that may have changed something."""
        if self.play_check_modes is None:  # no playbook start seen (the collector used on its own)
            return "check" if self.cli_check_mode else "apply"
        if self.play_check_modes and all(mode is True for mode in self.play_check_modes):
            return "check"
        return "apply"

    def report(self):
        points = list(self.points.values())  # in the order the plays declared them
        registers = [self.registers[host] for host in sorted(self.registers)]
        failures = [f for f in self.failures if not f["ignored"]]
        changed_other = [c for c in self.other_changes if c["changed"]]
        field_changes = (sum(len(p["changes"]) or 1 for p in points)
                         + sum(len(r["changes"]) or 1 for r in registers) + len(changed_other))
        disagreements = self.recap_disagreements(field_changes, failures)
        if failures or self.unreachable or disagreements:
            status, exit_code = "error", EXIT_ERROR
        elif field_changes:
            status, exit_code = "drift", EXIT_DRIFT
        else:
            status, exit_code = "no_drift", EXIT_NO_DRIFT
        health = self.health_report()
        if health["failing"] and status != "error":
            exit_code = EXIT_HEALTH  # status stays: health is not drift; the exit code is what was asked for
        report = {
            "format": FORMAT,
            "generated_at": _now(),
            "started_at": self.started_at,
            "playbook": self.playbook,
            "mode": self.mode(),
            "status": status,
            "exit_code": exit_code,
            "summary": {
                "changes": field_changes,
                "retail_points": len(points),
                "registers": len(registers),
                "other_changes": len(changed_other),
                "notices": len(self.notices),
                "kept": len(self.kept),
                "failures": len(failures),
                "ignored_failures": len(self.failures) - len(failures),
                "unreachable": len(self.unreachable),
                "collection_tasks": len(self.tasks),
                "recap_disagreements": len(disagreements),
            },
            "recap_disagreements": disagreements,
            "retail_points": points,
            "registers": registers,
            "other_changes": self.other_changes,
            "notices": self.notices,
            "kept": self.kept,
            "failures": self.failures,
            "unreachable": self.unreachable,
            "health": health,
            "hosts": self.stats,
            "tasks": self.tasks,
        }
        return self.masker.data(report)

    def health_report(self):
        """The ``health`` key: ``_health.summarize`` of the points read, plus ``fail_on`` and ``failing`` (whether
        the worst severity reaches ``fail_on_health``, which makes the exit code 3 when there is no error)."""
        health = summarize(self.health, self.register_hosts)
        health["fail_on"] = self.fail_on_health
        health["failing"] = bool(self.fail_on_health) and at_least(health["severity"], self.fail_on_health)
        return health
