# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report: what a playbook run changed (or, in check mode, would change), for people and for CI.

``DriftCollector`` takes task results as the ``modulkassa.pos.drift_report`` callback receives them and builds
one report: per retail point and per register, each field before -> after (from the ``changes`` our plugins
return), other changed tasks, failures and unreachable hosts, and the register health of every point the run read
(``health``, from ``module_utils/_health.py``: not drift). ``render_markdown`` turns it into the summary a pull
request shows. Pure Python, no Ansible objects, so unit tests drive it with plain dicts.

Secrets: the plugins already keep codes and passwords out of their results, but a report is pasted into pull
requests, so it masks again, by key name (``password``, ``posLinkToken``, ``code``, ``credentials`` ...) and
by value (every value found under such a key, and the cabinet password from the environment, is scrubbed
from every string of the report).
"""

from __future__ import annotations

import datetime
import difflib
import json
import re

import yaml

from ansible_collections.modulkassa.pos.plugins.module_utils._health import (
    API_FIELDS,
    KKT_FIELD,
    REGISTRATION_FIELD,
    TROUBLE_SEVERITIES,
    at_least,
    register_serial_of,
    statuses_of,
    summarize,
)

FORMAT = "modulkassa.pos.drift_report/1"
MASK = "********"
COLLECTION_PREFIX = "modulkassa.pos."

# Exact key names (lower case) whose values are secrets, and parts of key names that mark one.
SECRET_KEYS = frozenset((
    "code", "codes", "activation_code", "poslinktoken", "credentials", "password", "passwd",
    "cabinet_password", "token", "secret", "authorization", "private_key", "api_key",
))
SECRET_KEY_PARTS = ("password", "passwd", "secret", "token", "credential", "private_key", "authorization", "api_key")
# Values shorter than this are masked where they sit under a secret key, but not scrubbed from other text:
# replacing "1" everywhere would destroy the report without protecting anything.
MIN_SCRUB_LENGTH = 4

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


class SecretMasker(object):
    """Masks values under secret-looking keys and scrubs known secret values from all text."""

    def __init__(self, extra_keys=(), values=()):
        self.keys = SECRET_KEYS | frozenset(str(k).strip().lower() for k in extra_keys if str(k).strip())
        self._values = set()
        for value in values:
            self.add_value(value)
        self._key_line_re = None
        self._compile()

    def _compile(self):
        names = "|".join(sorted((re.escape(k) for k in self.keys), key=len, reverse=True))
        # "  password: x", "- code: '123'", '"posLinkToken": "abc"' in YAML or JSON text (diffs, messages).
        self._key_line_re = re.compile(
            r"""(?im)((?:^|[\s{,\-])["']?(?:%s|[\w-]*(?:%s)[\w-]*)["']?\s*[:=]\s*)(?!\s*(?:null|none|~|true|false)\b)("[^"\n]*"|'[^'\n]*'|[^\s,}\n]+)"""
            % (names, "|".join(re.escape(p) for p in SECRET_KEY_PARTS)))

    def is_secret_key(self, key):
        key = str(key).strip().lower()
        return key in self.keys or any(part in key for part in SECRET_KEY_PARTS)

    def add_value(self, value):
        if isinstance(value, str) and len(value.strip()) >= MIN_SCRUB_LENGTH:
            self._values.add(value.strip())

    def learn(self, data, depth=0):
        """Remember every value found under a secret key, so that it is scrubbed elsewhere too."""
        if depth > 20:
            return
        if isinstance(data, dict):
            for key, value in data.items():
                if self.is_secret_key(key):
                    self._learn_all(value, depth + 1)
                else:
                    self.learn(value, depth + 1)
        elif isinstance(data, (list, tuple)):
            for item in data:
                self.learn(item, depth + 1)

    def _learn_all(self, value, depth):
        if depth > 20:
            return
        if isinstance(value, str):
            self.add_value(value)
        elif isinstance(value, dict):
            for item in value.values():
                self._learn_all(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._learn_all(item, depth + 1)

    def text(self, text):
        if not isinstance(text, str):
            return text
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return self._key_line_re.sub(lambda m: m.group(1) + MASK, text)

    def data(self, data, depth=0):
        """A masked deep copy: secret keys keep their key with ``********`` (None/bool values are kept)."""
        if depth > 20:
            return MASK
        if isinstance(data, dict):
            masked = {}
            for key, value in data.items():
                if self.is_secret_key(key) and value is not None and not isinstance(value, bool):
                    masked[str(key)] = MASK
                else:
                    masked[str(key)] = self.data(value, depth + 1)
            return masked
        if isinstance(data, (list, tuple)):
            return [self.data(item, depth + 1) for item in data]
        if isinstance(data, str):
            return self.text(data)
        if data is None or isinstance(data, (bool, int, float)):
            return data
        return self.text(str(data))


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
            changes = item.get("changes")
            if changes is None:  # a plugin older than the changes key: the fields, without values
                changes = dict((f, {"before": None, "after": None}) for f in item.get("changed_fields") or [])
            self._add_point(host, task, item.get("name"), item.get("id"), item.get("action"), item.get("outcome"),
                            changes, item.get("error"))

    def _retail_point(self, host, task, result):
        self._add_notices(result.get("name"), result.get("id"), result.get("notices"))
        self._point_health(result.get("point"))
        changes = result.get("changes")
        if changes is None:
            changes = dict((f, {"before": None, "after": None}) for f in result.get("changed_fields") or [])
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
        entry["actions"].extend(a for a in actions if a not in entry["actions"])  # serial batches: one audit each
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


# ---- Markdown -------------------------------------------------------------------------------------------

_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>|])")


def _md_text(text):
    """Plain text for a table cell: Markdown and HTML specials escaped, one line."""
    return _MD_SPECIAL_RE.sub(r"\\\1", " ".join(str(text).split()))


def _md_value(value):
    """A value in a table cell, as code (exact), or an em dash for "not set"."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        if not value:
            return "(none)"
        return "<br>".join(_md_value(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    if text == "":
        return '`""`'
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return "%s%s%s" % (fence, (" %s " % text) if fence == "``" else text, fence)


_FIELD_LABELS = {"retail_points": "retail points", "tax_mode": "tax mode", "vat_tag": "VAT tag",
                 "fiscal_service_enabled": "fiscal service", "inn": "INN", "kpp": "KPP"}


def _field(name):
    return _FIELD_LABELS.get(name, str(name).replace("_", " "))


def _action_text(action):
    text = "%s %s" % (action.get("action"), action.get("retail_point") or action.get("id"))
    if action.get("previous_register") and action.get("action") == "rebind":
        text += " (from %s)" % action["previous_register"]
    if action.get("outcome") in ("failed", "not_attempted"):
        text += " (%s)" % action["outcome"].replace("_", " ")
    return _md_text(text)


def render_markdown(report, max_rows=200):
    """The Markdown summary of a report (from ``DriftCollector.report()``); tables capped at ``max_rows``."""
    check = report["mode"] == "check"
    now, then = ("now", "declared") if check else ("before", "after")
    summary = report["summary"]
    status = report["status"]
    lines = []
    if status == "error" and summary.get("recap_disagreements") and not (summary["failures"] or summary["unreachable"]):
        title = "error: the report disagrees with the play recap"
    elif status == "error":
        title = "errors: %d failed task(s), %d unreachable host(s)" % (summary["failures"], summary["unreachable"])
    elif status == "drift":
        counted = [(summary["retail_points"], "retail point(s)"), (summary["registers"], "register(s)"),
                   (summary["other_changes"], "other task(s)")]
        title = "%s %s" % (", ".join("%d %s" % (n, what) for n, what in counted if n),
                           "would change" if check else "changed")
    else:
        title = "no drift" if check else "no changes"
    lines.append("## ModulKassa drift report: %s" % title)
    lines.append("")
    mode = {"check": "check mode (nothing was changed)", "apply": "apply mode (changes were made)"}[report["mode"]]
    lines.append("%s · exit code **%d** · playbook %s · %s" % (
        mode, report["exit_code"], _md_value(report.get("playbook") or "?"), report["generated_at"]))
    lines.append("")
    if status != "error" and not summary["changes"]:
        lines.append("The retail points and registers %s the declared state." % ("match" if check else "already matched"))
        lines.append("")
    kept = report.get("kept") or []
    if kept:
        lines.append("The purge kept %d point(s) that the data does not declare (\"Kept by the purge guards\" below): "
                     "not drift, a run would keep them again." % len(kept))
        lines.append("")

    rows = []
    for point in report["retail_points"]:
        name = _md_text(point.get("name") or point.get("id") or "?")
        action = _md_text(point.get("action") or "")
        if point.get("outcome") in ("failed", "not_attempted"):
            action += " (%s)" % point["outcome"].replace("_", " ")
        changes = point.get("changes") or {"(unknown)": {}}
        for field, change in changes.items():
            rows.append("| %s | %s | %s | %s | %s |" % (
                name, action, _field(field), _md_value(change.get("before")), _md_value(change.get("after"))))
    _table(lines, "Retail points (%d)" % len(report["retail_points"]),
           "| retail point | action | field | %s | %s |" % (now, then), "|---|---|---|---|---|", rows, max_rows)

    rows = []
    for register in report["registers"]:
        actions = "<br>".join(_action_text(a) for a in register.get("actions") or []) or "\u2014"
        for field, change in (register.get("changes") or {"(unknown)": {}}).items():
            rows.append("| %s | %s | %s | %s | %s | %s |" % (
                _md_text(register["host"]) + (" (not in the inventory)" if register.get("declared") is False else ""),
                _md_value(register.get("serial")), _field(field),
                _md_value(change.get("before")), _md_value(change.get("after")), actions))
    _table(lines, "Registers (%d)" % len(report["registers"]),
           "| register | serial | field | %s | %s | actions |" % (now, then), "|---|---|---|---|---|---|", rows, max_rows)

    # Not drift (the exit code ignores them): values the cabinet holds that the user should change.
    rows = ["| %s | %s |" % (_md_text(n.get("name") or n.get("id") or "?"), _md_text(n["notice"]))
            for n in report.get("notices") or []]
    _table(lines, "Notices (%d)" % len(rows), "| retail point | notice |", "|---|---|", rows, max_rows)
    _health_section(lines, report.get("health"), max_rows)

    # Not drift either: points the purge would delete but a guard keeps (active, under registration, excluded).
    rows = ["| %s | %s | kept: %s |" % (_md_text(k.get("name") or k.get("id") or "?"), _md_value(k.get("id")),
                                        _md_text(k["reason"])) for k in kept]
    _table(lines, "Kept by the purge guards (%d)" % len(rows), "| retail point | id | purge |", "|---|---|---|",
           rows, max_rows)

    changed_other = [c for c in report["other_changes"] if c["changed"]]
    rows = ["| %s | %s | %s |" % (_md_text(c["host"]), _md_text(c["task"]), _md_value(c.get("action")))
            for c in changed_other]
    _table(lines, "Other changed tasks (%d)" % len(changed_other), "| host | task | action |", "|---|---|---|",
           rows, max_rows)
    diffs = [c for c in changed_other if c.get("diff")]
    for change in diffs[:20]:
        lines.extend(["<details><summary>%s: %s</summary>" % (_md_text(change["host"]), _md_text(change["task"])),
                      "", "```diff", change["diff"].replace("```", "` ` `"), "```", "", "</details>", ""])

    disagreements = report.get("recap_disagreements") or []
    if disagreements:
        lines.extend(["### The report disagrees with the play recap", "",
                      "Some task results did not reach the report (see the run's warnings), so it cannot tell what "
                      "would change: treat the run as failed.", ""])
        lines.extend("* %s" % _md_text(problem) for problem in disagreements)
        lines.append("")

    rows = ["| %s | %s | %s%s |" % (
        _md_text(f["host"]), _md_text(f["task"]), "(ignored) " if f.get("ignored") else "", _md_text(f["msg"]))
        for f in report["failures"]]
    _table(lines, "Failures (%d)" % len(report["failures"]), "| host | task | message |", "|---|---|---|", rows, max_rows)
    rows = ["| %s | %s | %s |" % (_md_text(u["host"]), _md_text(u["task"]), _md_text(u["msg"]))
            for u in report["unreachable"]]
    _table(lines, "Unreachable hosts (%d)" % len(report["unreachable"]), "| host | task | message |", "|---|---|---|",
           rows, max_rows)
    return "\n".join(lines).rstrip() + "\n"


def _health_section(lines, health, max_rows):
    """Register health (not drift): counts by state, then one row per finding of each point, worst first."""
    if not isinstance(health, dict) or not health.get("summary", {}).get("points"):
        return
    summary = health["summary"]
    if summary["points_in_trouble"]:
        title = "%d point(s) in trouble on %d register(s), worst: %s" % (
            summary["points_in_trouble"], summary["registers_in_trouble"], health["severity"])
    else:
        title = "no trouble"
    lines.extend(["### Register health: %s" % title, ""])
    if health.get("failing"):
        lines.extend(["Health at or above **%s** fails this run (exit code 3)." % _md_text(health["fail_on"]), ""])
    elif summary["points_in_trouble"]:
        lines.extend(["Health trouble is not drift: it leaves the exit code alone (`modulkassa-plan "
                      "--fail-on-health` makes it fail the run).", ""])
    for field, name in API_FIELDS.items():
        counts = (health.get("counts") or {}).get(field) or {}
        lines.append("%s (%d point(s)): %s  " % (name, summary["points"], " · ".join(
            "%s %d" % (_md_value(state), count) for state, count in counts.items())))
    lines.append("")
    rows = []
    for point in health.get("points") or []:
        register = point.get("register_serial")
        register = ("%s (%s)" % (_md_text(point["register_host"]), _md_value(register)) if point.get("register_host")
                    else _md_value(register) if register else "(none)")
        for finding in point.get("findings") or []:
            state = "%s %s" % (API_FIELDS.get(finding["field"], finding["field"]), _md_value(finding["state"]))
            if finding.get("label"):
                state += " (%s)" % _md_text(finding["label"])
            rows.append("| %s | %s | %s | %s | %s |" % (
                _md_text(point.get("name") or point.get("id") or "?"), register, state, _md_text(finding["severity"]),
                _md_text(finding.get("action") or "")))
    if rows:
        lines.extend(["| retail point | register | state | severity | what to do |", "|---|---|---|---|---|"])
        lines.extend(rows[:max_rows])
        if len(rows) > max_rows:
            lines.extend(["", "... and %d more row(s): see the JSON report." % (len(rows) - max_rows)])
        lines.append("")


def _table(lines, title, header, rule, rows, max_rows):
    if not rows:
        return
    lines.extend(["### " + title, "", header, rule])
    lines.extend(rows[:max_rows])
    if len(rows) > max_rows:
        lines.append("")
        lines.append("... and %d more row(s): see the JSON report." % (len(rows) - max_rows))
    lines.append("")
