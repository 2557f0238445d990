# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""modulkassa-plan: run a playbook with the drift report and exit like ``terraform plan -detailed-exitcode``.

Run through ``tools/modulkassa-plan`` (a shell shim that finds python3). Standard library only, Python >= 3.9.
Documented in docs/gitops.md.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys

USAGE = """\
usage: modulkassa-plan [--playbook PLAYBOOK] [--report-dir DIR] [--fail-on-health[=SEVERITY]] [--]
                       [ANSIBLE-PLAYBOOK ARGUMENTS...]
       modulkassa-plan [PLAYBOOK] [ANSIBLE-PLAYBOOK ARGUMENTS...]

Runs ansible-playbook (default playbook: modulkassa.pos.audit, the estate in check mode) with the
modulkassa.pos.drift_report callback enabled, then exits like `terraform plan -detailed-exitcode`:

  0  no drift: the run succeeded and nothing would change (or, without --check, changed)
  2  drift: the run succeeded and something would change (or changed)
  1  error: a task failed, a host was unreachable, ansible-playbook itself failed, no report was written,
     or the report disagrees with the play recap (a recap with changes never gives 0)
  3  health (only with --fail-on-health): no error, and a register's health is at least SEVERITY bad;
     this wins over 0 and 2 (the verdict line and the report still say whether there is drift)

Register health (the cabinet's kktStatus and registrationRequestStatus of every point the run read) is in
the report either way; without --fail-on-health it never changes the exit code.

The arguments after the wrapper's own options go to ansible-playbook unchanged (-i, -e, --check, --diff,
--limit, ...). A first argument that is not an option is the playbook.

options:
  --playbook PLAYBOOK   playbook path or FQCN (default: modulkassa.pos.audit)
  --report-dir DIR      where the report goes (default: $MODULKASSA_DRIFT_REPORT_DIR or ./drift-report);
                        files: drift-report.json and drift-report.md, unless MODULKASSA_DRIFT_REPORT_JSON /
                        MODULKASSA_DRIFT_REPORT_MARKDOWN name others
  --fail-on-health[=SEVERITY]
                        exit 3 when a point's register health is SEVERITY or worse: warning (any trouble,
                        the default; an unknown state too) or critical (a register that cannot issue receipts
                        the tax office accepts: no fiscal drive, not registered, registration refused).
                        Only the "=" form takes a value (a next word is the playbook or ansible-playbook's).
                        Default: $MODULKASSA_DRIFT_REPORT_FAIL_ON_HEALTH, else health does not fail the run
  -h, --help            this text

environment:
  MODULKASSA_ANSIBLE_PLAYBOOK   the ansible-playbook to run (default: beside this Python, then PATH)
  ANSIBLE_CALLBACKS_ENABLED     kept; drift_report is added to it (and to callbacks_enabled from ansible.cfg)
"""

CALLBACK = "modulkassa.pos.drift_report"
DEFAULT_PLAYBOOK = "modulkassa.pos.audit"
DEFAULT_REPORT_DIR = "drift-report"
DEFAULT_JSON = "drift-report.json"
DEFAULT_MARKDOWN = "drift-report.md"
EXIT_NO_DRIFT, EXIT_ERROR, EXIT_DRIFT, EXIT_HEALTH = 0, 1, 2, 3
STATUS_EXIT = {"no_drift": EXIT_NO_DRIFT, "drift": EXIT_DRIFT, "error": EXIT_ERROR}
# The severities --fail-on-health takes, mildest first (the collection's module_utils/_health.py defines them).
HEALTH_SEVERITIES = ("warning", "critical")
FAIL_ON_HEALTH_ENV = "MODULKASSA_DRIFT_REPORT_FAIL_ON_HEALTH"


class UsageError(Exception):
    pass


class HelpRequested(Exception):
    pass


def say(message, stream=None):
    print("modulkassa-plan: %s" % message, file=stream or sys.stdout, flush=True)


def parse_arguments(argv):
    """``(playbook, report_dir, passthrough, fail_on_health)``; the wrapper's options must come first.

    ``fail_on_health`` is None when not given (the callback then reads its environment variable, if any)."""
    playbook, report_dir, fail_on_health = None, None, None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("-h", "--help"):
            raise HelpRequested()
        if arg == "--":
            index += 1
            break
        name, has_value, value = arg.partition("=")
        if name == "--fail-on-health":
            # The value only after "=": "--fail-on-health site.yml" must not read the playbook as a severity.
            fail_on_health = value if has_value else HEALTH_SEVERITIES[0]
            if fail_on_health not in HEALTH_SEVERITIES:
                raise UsageError("--fail-on-health takes %s, not %r" % (" or ".join(HEALTH_SEVERITIES), value))
            index += 1
            continue
        if name in ("--playbook", "--report-dir"):
            if not has_value:
                if index + 1 >= len(argv):
                    raise UsageError("%s needs a value" % name)
                index += 1
                value = argv[index]
            if not value:
                raise UsageError("%s must not be empty" % name)
            if name == "--playbook":
                playbook = value
            else:
                report_dir = value
            index += 1
            continue
        break
    passthrough = list(argv[index:])
    if playbook is None and passthrough and not passthrough[0].startswith("-"):
        playbook = passthrough.pop(0)
    return playbook or DEFAULT_PLAYBOOK, report_dir, passthrough, fail_on_health


def configured_callbacks(environ):
    """callbacks_enabled as Ansible would see it without us: the environment, else the ansible.cfg it picks.

    Setting ANSIBLE_CALLBACKS_ENABLED replaces the ansible.cfg value, so that value is carried over.
    """
    for name in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_WHITELIST"):
        if environ.get(name) is not None:
            return [c.strip() for c in environ[name].split(",") if c.strip()]
    for path in (environ.get("ANSIBLE_CONFIG"), "ansible.cfg", "~/.ansible.cfg", "/etc/ansible/ansible.cfg"):
        if not path:
            continue
        path = os.path.expanduser(path)
        if os.path.isdir(path):
            path = os.path.join(path, "ansible.cfg")
        if not os.path.isfile(path):
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeError):
            return []
        for key in ("callbacks_enabled", "callback_whitelist"):
            if parser.has_option("defaults", key):
                return [c.strip() for c in parser.get("defaults", key).split(",") if c.strip()]
        return []
    return []


def find_ansible_playbook(environ):
    explicit = environ.get("MODULKASSA_ANSIBLE_PLAYBOOK")
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which("ansible-playbook", path=environ.get("PATH"))


def report_paths(report_dir, environ):
    directory = os.path.abspath(os.path.expanduser(report_dir or environ.get("MODULKASSA_DRIFT_REPORT_DIR") or DEFAULT_REPORT_DIR))
    json_path = os.path.join(directory, os.path.expanduser(environ.get("MODULKASSA_DRIFT_REPORT_JSON") or DEFAULT_JSON))
    markdown_path = os.path.join(directory, os.path.expanduser(environ.get("MODULKASSA_DRIFT_REPORT_MARKDOWN") or DEFAULT_MARKDOWN))
    return directory, json_path, markdown_path


def read_report(path):
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("status") in STATUS_EXIT else None


def recap_contradiction(report):
    """Why the report's verdict cannot be right given the play recap it carries, or None.

    The report's ``hosts`` are ansible-core's own statistics (the PLAY RECAP), copied by the callback at the end of
    the run; its verdict is built from the task results the callback was handed. A callback that missed results
    (older cores turn an exception in a callback into a warning and carry on) would say "no drift" while changes
    are pending. Whatever the report says: a recap with changes never exits 0, one with failed tasks or
    unreachable hosts never anything but 1.
    """
    hosts = report.get("hosts")
    if not isinstance(hosts, dict):
        return "the report carries no play recap"
    totals = dict((key, sum(int((counts or {}).get(key) or 0) for counts in hosts.values() if isinstance(counts, dict)))
                  for key in ("changed", "failures", "unreachable"))
    if report["status"] != "error" and (totals["failures"] or totals["unreachable"]):
        return "the play recap counts %d failed task(s) and %d unreachable host(s)" % (
            totals["failures"], totals["unreachable"])
    if report["status"] == "no_drift" and totals["changed"]:
        return "the play recap counts %d changed task(s)" % totals["changed"]
    return None


def exit_code_of(report):
    """The report's exit code: its status's, or 3 when the callback, asked to fail on health, said so (the rule
    lives in the callback, so the report, its Markdown and this exit code agree). An error is always 1."""
    code = STATUS_EXIT[report["status"]]
    if code != EXIT_ERROR and report.get("exit_code") == EXIT_HEALTH and not isinstance(report.get("exit_code"), bool):
        code = EXIT_HEALTH
    return code


def describe_health(report):
    """A line on the register health, or None when no point the run read is in trouble."""
    health = report.get("health") if isinstance(report.get("health"), dict) else {}
    summary = health.get("summary") if isinstance(health.get("summary"), dict) else {}
    if not summary.get("points_in_trouble"):
        return None
    text = "health: %d point(s) in trouble on %d register(s), worst %s" % (
        summary["points_in_trouble"], summary.get("registers_in_trouble", 0), health.get("severity"))
    if health.get("failing"):
        return text + " (at least %s: fails the run)" % health.get("fail_on")
    if health.get("fail_on"):
        return text + " (below %s: does not fail the run)" % health.get("fail_on")
    return text + " (not failing the run: see --fail-on-health)"


def describe(report):
    summary = report.get("summary") or {}
    if report["status"] == "error":
        return "error: %d failed task(s), %d unreachable host(s)" % (summary.get("failures", 0), summary.get("unreachable", 0))
    if report["status"] == "drift":
        verb = "would change" if report.get("mode") == "check" else "changed"
        counted = [(summary.get(key, 0), what) for key, what in (
            ("retail_points", "retail point(s)"), ("registers", "register(s)"), ("other_changes", "other task(s)"))]
        return "drift: %s %s" % (", ".join("%d %s" % (n, what) for n, what in counted if n) or "changes", verb)
    return "no drift"


def main(argv=None, environ=None):
    environ = dict(os.environ if environ is None else environ)
    try:
        playbook, report_dir, passthrough, fail_on_health = parse_arguments(sys.argv[1:] if argv is None else argv)
    except HelpRequested:
        print(USAGE)
        return EXIT_NO_DRIFT
    except UsageError as exc:
        say("%s\n%s" % (exc, USAGE), sys.stderr)
        return EXIT_ERROR

    ansible_playbook = find_ansible_playbook(environ)
    if not ansible_playbook:
        say("ansible-playbook not found (PATH, or set MODULKASSA_ANSIBLE_PLAYBOOK)", sys.stderr)
        return EXIT_ERROR

    directory, json_path, markdown_path = report_paths(report_dir, environ)
    for stale in (json_path, markdown_path):  # a report left by an earlier run must not be read as this one's
        if os.path.exists(stale):
            os.unlink(stale)

    callbacks = configured_callbacks(environ)
    if CALLBACK not in callbacks and "drift_report" not in callbacks:
        callbacks.append(CALLBACK)
    environ.update({
        "ANSIBLE_CALLBACKS_ENABLED": ",".join(callbacks),
        "MODULKASSA_DRIFT_REPORT_DIR": directory,
        "MODULKASSA_DRIFT_REPORT_JSON": json_path,
        "MODULKASSA_DRIFT_REPORT_MARKDOWN": markdown_path,
    })
    if fail_on_health is not None:
        environ[FAIL_ON_HEALTH_ENV] = fail_on_health  # the callback decides, so the report says the same exit code
    environ.pop("ANSIBLE_CALLBACK_WHITELIST", None)  # an old alias would be read instead of the new name

    command = [ansible_playbook, playbook] + passthrough
    try:
        rc = subprocess.call(command, env=environ)
    except OSError as exc:
        say("could not run %s: %s" % (ansible_playbook, exc), sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        say("interrupted", sys.stderr)
        return EXIT_ERROR

    report = read_report(json_path)
    if report is None:
        say("no drift report was written (ansible-playbook exited %d before the end of the run, or the "
            "modulkassa.pos collection is not where Ansible looks: ANSIBLE_COLLECTIONS_PATH)" % rc, sys.stderr)
        return EXIT_ERROR
    code = exit_code_of(report)
    text = describe(report)
    contradiction = recap_contradiction(report)
    if contradiction:
        code, text = EXIT_ERROR, ("error: the drift report says %s, but %s: it missed task results (see the run's "
                                  "warnings)" % (report["status"].replace("_", " "), contradiction))
    if rc != 0 and code != EXIT_ERROR:
        code, text = EXIT_ERROR, "error: ansible-playbook exited %d (%s)" % (rc, text)
    health = describe_health(report)
    say("%s%s; exit %d" % (text, "; " + health if health else "", code))
    say("report: %s (JSON: %s)" % (markdown_path, json_path))
    return code


if __name__ == "__main__":
    sys.exit(main())
