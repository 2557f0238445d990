# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: drift_report
type: aggregate
short_description: Write a JSON and a Markdown drift report of a run (what would change, or changed)
version_added: 0.1.0
description:
  - Collects the result of every task of this collection's plugins, and of any other task that reports
    C(changed) or a diff, and writes at the end of the playbook a JSON file and a Markdown summary.
  - The report lists, per retail point and per register, each field that would change (check mode) or
    changed, before and after; the other changed tasks; failed tasks and unreachable hosts.
  - The before/after values come from the C(changes) key that M(modulkassa.pos.retail_points),
    M(modulkassa.pos.retail_point) and M(modulkassa.pos.register) return in every mode, so C(--diff) is not
    needed for them; diffs of other tasks are included as text.
  - The report's mode comes from the run, never from which tasks ran - V(check) when every play runs in check
    mode (C(--check), or the play's C(check_mode) keyword set to V(true), as in C(modulkassa.pos.audit)),
    else V(apply).
  - The JSON's C(status) is V(no_drift), V(drift) or V(error), and C(exit_code) is what
    C(terraform plan -detailed-exitcode) would return (V(0), V(2), V(1)); V(3) instead of V(0) or V(2) when
    O(fail_on_health) is set and a point's health is that bad. C(ansible-playbook) itself cannot exit with it; the
    collection's C(tools/modulkassa-plan) wrapper does (see C(docs/gitops.md)).
  - A health section (JSON key C(health)) reports what the cabinet says about the register of every retail point the
    run read (C(kktStatus)) and its registration with the tax office (C(registrationRequestStatus)) - counts by
    state, and one row per point in trouble with what to do. Health is not drift - it does not change C(status).
  - Secrets are masked again, whatever the plugins did - values under keys such as C(password),
    C(posLinkToken), C(code), C(credentials), C(token) or C(secret), every such value wherever else it appears,
    and the value of E(MODULKASSA_PASSWORD).
  - Enable it with E(ANSIBLE_CALLBACKS_ENABLED=modulkassa.pos.drift_report) (or C(callbacks_enabled) in
    C(ansible.cfg)); it does not change the normal output.
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  output_dir:
    description:
      - Directory the report files are written to; created if missing. Relative to the current directory.
    type: path
    default: drift-report
    env:
      - name: MODULKASSA_DRIFT_REPORT_DIR
    ini:
      - section: callback_drift_report
        key: output_dir
  json_file:
    description:
      - Name of the JSON report, relative to O(output_dir) unless absolute.
    type: str
    default: drift-report.json
    env:
      - name: MODULKASSA_DRIFT_REPORT_JSON
    ini:
      - section: callback_drift_report
        key: json_file
  markdown_file:
    description:
      - Name of the Markdown summary, relative to O(output_dir) unless absolute.
    type: str
    default: drift-report.md
    env:
      - name: MODULKASSA_DRIFT_REPORT_MARKDOWN
    ini:
      - section: callback_drift_report
        key: markdown_file
  secret_keys:
    description:
      - More key names (case-insensitive) whose values are masked, in addition to the built-in ones.
    type: list
    elements: str
    default: []
    env:
      - name: MODULKASSA_DRIFT_REPORT_SECRET_KEYS
    ini:
      - section: callback_drift_report
        key: secret_keys
  max_rows:
    description:
      - Rows per table in the Markdown summary; the rest is counted and left to the JSON report (a pull request
        comment has a size limit).
    type: int
    default: 200
    env:
      - name: MODULKASSA_DRIFT_REPORT_MAX_ROWS
    ini:
      - section: callback_drift_report
        key: max_rows
  fail_on_health:
    description:
      - Make the report's C(exit_code) V(3) when the run has no error and a point's health is at least this bad -
        V(warning) (any trouble, an unknown state included) or V(critical) (a register that cannot issue receipts the
        tax office accepts). C(status) keeps its value. Unset - health never changes the exit code.
      - C(modulkassa-plan --fail-on-health) sets it.
    type: str
    choices: [warning, critical]
    env:
      - name: MODULKASSA_DRIFT_REPORT_FAIL_ON_HEALTH
    ini:
      - section: callback_drift_report
        key: fail_on_health
  display_markdown:
    description:
      - Also print the Markdown summary at the end of the run's output - for AWX or any runner whose job output is
        kept while its files are not.
    type: bool
    default: false
    env:
      - name: MODULKASSA_DRIFT_REPORT_DISPLAY
    ini:
      - section: callback_drift_report
        key: display_markdown
  plan_file:
    description:
      - Also write the saved plan of the run to this file (JSON; docs/gitops.md "Saved plans"), from the C(plan)
        results of M(modulkassa.pos.retail_points) and M(modulkassa.pos.register) (their C(record_plan) option).
      - C(tools/modulkassa-plan --out) sets it. No file is written when the run cannot give a whole plan.
    type: path
    env:
      - name: MODULKASSA_PLAN_OUT
  applied_file:
    description:
      - Also write the applied record of the run to this file (JSON) - the managed state each point and register
        was left in, with fingerprints. C(tools/modulkassa-plan --apply) sets it.
    type: path
    env:
      - name: MODULKASSA_APPLIED_OUT
  applied_plan_digest:
    description:
      - The content digest of the saved plan being applied, kept in the applied record.
    type: str
    env:
      - name: MODULKASSA_APPLIED_PLAN_DIGEST
  since_file:
    description:
      - An applied record (O(applied_file) of an earlier run). Every drifted field of the report is then labelled
        with where it changed since - in the cabinet outside git, in git and not yet applied, or both.
        C(tools/modulkassa-plan --since) sets it.
    type: path
    env:
      - name: MODULKASSA_DRIFT_SINCE
notes:
  - A failed task under C(ignore_errors) is listed but is not an error. A failed task that a C(rescue) handled
    still is - the audit could not tell that part of the state.
  - The files are replaced atomically at the end of each run, with the process umask; they hold no secret, but
    do hold the estate's names and attributes.
seealso:
  - module: modulkassa.pos.retail_points
  - module: modulkassa.pos.register
"""

import json
import os
import tempfile

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_collector import DriftCollector
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_markdown import render_markdown
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_masker import SecretMasker
from ansible_collections.modulkassa.pos.plugins.plugin_utils._plan_file import PlanCollector, label_origins
from ansible_collections.modulkassa.pos.plugins.plugin_utils._task_result import unpack_task_result


def _write_atomically(path, text):
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600; the report is meant to be shared
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "modulkassa.pos.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._collector = None

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        masker = SecretMasker(extra_keys=self.get_option("secret_keys") or (),
                              values=[os.environ.get("MODULKASSA_PASSWORD")])
        # Ansible refuses a value outside the option's choices before this runs.
        self._collector = DriftCollector(masker, fail_on_health=self.get_option("fail_on_health") or None)
        self._plans = PlanCollector()

    def _record(self, result, status, ignored=False):
        if self._collector is None:
            return
        task, host, data = unpack_task_result(result)
        check_mode = task.check_mode if isinstance(getattr(task, "check_mode", None), bool) else None
        self._plans.add(host.get_name(), getattr(task, "resolved_action", None) or task.action, data)
        self._collector.add(
            host=host.get_name(),
            task=task.get_name(),
            # resolved_action is the FQCN that ran, also when the task used a short name or an alias
            action=getattr(task, "resolved_action", None) or task.action,
            status=status,
            result=data,
            check_mode=check_mode,
            ignored=ignored,
        )

    def v2_playbook_on_start(self, playbook):
        if self._collector is None:
            self.set_options()
        self._collector.playbook = getattr(playbook, "_file_name", None)
        self._collector.cli_check_mode = bool(context.CLIARGS.get("check"))
        # The report's mode is the run's: each play's check_mode as the playbook declares it (imports are resolved
        # by now; a play that sets none takes --check, which is how Ansible itself decides). Not from the tasks.
        self._collector.play_check_modes = [play.check_mode for play in playbook.get_plays()]

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if unpack_task_result(result)[2].get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed", ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        if self._collector is None:
            return
        hosts = {}
        for host in sorted(stats.processed.keys()):
            summary = stats.summarize(host)
            hosts[host] = dict((key, summary.get(key, 0)) for key in
                               ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored"))
        self._collector.set_stats(hosts)
        report = self._collector.report()

        output_dir = os.path.abspath(os.path.expanduser(self.get_option("output_dir")))
        json_path = os.path.join(output_dir, os.path.expanduser(self.get_option("json_file")))
        markdown_path = os.path.join(output_dir, os.path.expanduser(self.get_option("markdown_file")))
        report["files"] = {"json": json_path, "markdown": markdown_path}
        self._write_plan_files(report)
        markdown = render_markdown(report, max_rows=self.get_option("max_rows"))
        if self.get_option("display_markdown"):
            self._display.display("\n" + markdown)
        try:
            _write_atomically(json_path, json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")
            _write_atomically(markdown_path, markdown)
        except OSError as exc:
            self._display.error("modulkassa.pos.drift_report: could not write the report: %s" % exc)
            return
        self._display.display("modulkassa.pos.drift_report: %s (%d change(s), %d failure(s), %d unreachable; health: "
                              "%d point(s) in trouble): %s" % (
                                  report["status"], report["summary"]["changes"], report["summary"]["failures"],
                                  report["summary"]["unreachable"], report["health"]["summary"]["points_in_trouble"],
                                  markdown_path))

    def _write_plan_files(self, report):
        """The saved plan (--out), the applied record (--apply), the labels of --since (docs/gitops.md)."""
        since = self.get_option("since_file")
        if since:
            try:
                with open(since, encoding="utf-8") as handle:
                    label_origins(report, json.load(handle))
            except (OSError, ValueError, AttributeError, TypeError) as exc:
                self._display.error("modulkassa.pos.drift_report: the applied record %s cannot be read: %s" % (since, exc))
        for option, build in (("plan_file", lambda: self._plans.plan_document(report["generated_at"])),
                              ("applied_file", lambda: self._plans.applied_document(
                                  report["generated_at"], self.get_option("applied_plan_digest")))):
            path = self.get_option(option)
            if not path:
                continue
            document = build()
            if self._plans.problems:
                self._display.error("modulkassa.pos.drift_report: no %s written: %s" % (
                    option.replace("_", " "), "; ".join(self._plans.problems)))
                continue
            try:
                _write_atomically(os.path.abspath(path), json.dumps(document, ensure_ascii=False, indent=2,
                                                                    sort_keys=True) + "\n")
            except OSError as exc:
                self._display.error("modulkassa.pos.drift_report: could not write %s: %s" % (path, exc))
