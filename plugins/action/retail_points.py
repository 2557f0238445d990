# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.retail_points: the whole desired set in one call (docs: the module file)."""

from __future__ import annotations

import json

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import point_attributes, with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._data_size import DataTooLarge, check_expanded_size
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (
    GUARD_EXCLUDED,
    KEEP,
    PURGE_MAX_DEFAULT,
    PurgeRefused,
    apply_plan,
    check_purge_max,
    normalize_specs,
    plan_points,
    purge_exclusions,
    summary_of,
)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._argument_checks import locate_element_error, raw_type_error
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import points_diff

# In a points_file mapping, the list is under the fleet data's variable name, so a group_vars file can be moved
# out of the inventory as it is (docs/scale.md).
POINTS_FILE_KEY = "modulkassa_points"


def _point_suboptions():
    options = point_attributes()
    options.update(
        name={"type": "str"},
        id={"type": "str"},
        state={"type": "str", "default": "present", "choices": ["present", "absent"]},
    )
    return options


def _points_option():
    return {"type": "list", "elements": "dict", "options": _point_suboptions(), "required_one_of": [["name", "id"]]}


def load_points_file(path):
    """The list in a YAML or JSON file: the file is a list of points, or a mapping with ``modulkassa_points``.

    Read here as plain data: points kept in Ansible variables cost about 12 KB each in every process (each
    value carries its origin), 170 MB before the first task at 10,000 points (docs/scale.md).
    """
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise PointInputError("points_file", "cannot be read: %s: %s" % (path, exc.strerror or exc))
    is_json = path.lower().endswith(".json")
    try:
        data = json.loads(text) if is_json else yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (ValueError, yaml.YAMLError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PointInputError("points_file", "%s is not valid %s: %s" % (path, "JSON" if is_json else "YAML", first_line))
    try:
        # Before anything copies the list: the argument spec below deep-copies it, which would expand an alias bomb.
        check_expanded_size("points_file", data)
    except DataTooLarge as exc:
        raise PointInputError("points_file", "%s %s" % (path, exc.rule))
    if isinstance(data, dict) and POINTS_FILE_KEY in data:
        data = data[POINTS_FILE_KEY]
    if not isinstance(data, list):
        raise PointInputError("points_file", "%s must hold a list of points, or a mapping whose %s key holds it"
                              % (path, POINTS_FILE_KEY))
    return data


def validate_file_points(points):
    """The file's points through the same checks as the ``points`` option; errors name ``points_file[i].key``."""
    spec = {"points_file": _points_option()}
    values = {"points_file": points}
    found = raw_type_error(spec, values)
    if found:
        raise PointInputError(*found)
    validation = ArgumentSpecValidator(spec).validate(values)
    if validation.errors.errors:
        located = locate_element_error(spec, values, " " + validation.errors.msg)  # " points_file.foo": an element's key
        raise PointInputError(*(located or ("points_file", validation.errors.msg)))
    return validation.validated_parameters["points_file"]


class ActionModule(CabinetActionBase):

    argument_spec = with_cabinet_options({
        "points": _points_option(),
        "points_file": {"type": "path"},
        "purge": {"type": "bool", "default": False},
        "purge_exclude": {"type": "list", "elements": "str", "default": []},
        "purge_max": {"type": "int", "default": PURGE_MAX_DEFAULT},
        "concurrency": {"type": "int", "default": 16},
    })
    validation_rules = {"required_one_of": [["points", "points_file"]],
                        "mutually_exclusive": [["points", "points_file"]]}

    def run(self, tmp=None, task_vars=None):
        exclude = self._task.args.get("purge_exclude")
        if isinstance(exclude, str):
            # One string is one entry, as for the export's names: the argument spec would split it at commas, which
            # point names hold ("Shop 7, cafe").
            self._task.args = dict(self._task.args, purge_exclude=[exclude])
        return super(ActionModule, self).run(tmp, task_vars)

    def prepare(self, args, task_vars):
        if not 1 <= args["concurrency"] <= 64:
            raise PointInputError("concurrency", "must be between 1 and 64")
        # The purge options are checked before any request, even without purge: a typo must not wait for the day
        # purge is turned on.
        args["purge_exclude"] = purge_exclusions(args["purge_exclude"])
        check_purge_max(args["purge_max"])
        if args["points_file"] is not None:
            # A relative path is relative to the playbook's directory, like the files a task reads.
            points = load_points_file(self._loader.path_dwim(args["points_file"]))
            return normalize_specs(validate_file_points(points), "points_file")
        return normalize_specs(args["points"], "points")

    def execute(self, args, prepared, client, task_vars):
        try:
            changes = plan_points(prepared, client.list_points(), args["cabinet_login"], purge=args["purge"],
                                  purge_exclude=args["purge_exclude"], purge_max=args["purge_max"])
        except PurgeRefused as exc:
            return self._refused(exc)
        writes = [c for c in changes if c.changed]

        def describe(elapsed):
            # Counts only (read from the writer threads' outcomes): no point's data in a progress line.
            finished = [c.outcome for c in writes if c.outcome in ("done", "failed", "not_attempted")]
            return "retail_points: %d of %d writes done, %d failed (%.0f s)" % (
                finished.count("done"), len(writes), finished.count("failed"), elapsed)

        if writes and not self.check_mode:
            with self.progress(client, task_vars, describe):
                failed = apply_plan(changes, client, check_mode=False, concurrency=args["concurrency"])
        else:
            failed = apply_plan(changes, client, check_mode=self.check_mode, concurrency=args["concurrency"])
        not_attempted = [c for c in writes if c.outcome == "not_attempted"]
        result = {
            "changed": any(c.changed and c.outcome in ("done", "predicted") for c in changes),
            "summary": summary_of(changes),
            "results": [c.result() for c in changes],
        }
        notices = ["retail point %r: %s" % (c.name, notice) for c in changes for notice in c.notices]
        guarded = _guarded_warning(changes)
        if guarded:
            notices.append(guarded)
        if notices:
            result["warnings"] = notices  # shown by Ansible; the drift report reads results[].notices and reason
        if self.diff_mode:
            # Rendering a YAML diff per changed point costs about 1 ms each: only when --diff asks for it.
            result["diff"] = points_diff(changes)
        if failed:
            done = sum(1 for c in changes if c.outcome == "done")
            result["failed"] = True
            result["msg"] = "%d of %d writes failed (%d done, the rest unchanged): %s" % (
                len(failed), len(writes), done, "; ".join("%s (%s): %s" % (c.name, c.action, c.error) for c in failed))
        if not_attempted:
            result["failed"] = True
            reason = next((c.error for c in not_attempted if c.error), "the run stopped")
            stop = "%d of %d writes not attempted: %s" % (len(not_attempted), len(writes), reason)
            result["msg"] = "%s; %s" % (result["msg"], stop) if failed else stop
        return result

    def _refused(self, refusal):
        """The failed result of a purge refused before any write: the message, and the plan that was refused (each
        write ``not_attempted``), so the task's results and the drift report show what the purge would have done."""
        for change in refusal.changes:
            change.outcome = "not_attempted" if change.changed else "unchanged"
        result = {
            "failed": True,
            "changed": False,
            "msg": str(refusal),
            "summary": summary_of(refusal.changes),
            "results": [c.result() for c in refusal.changes],
        }
        if self.diff_mode:
            result["diff"] = points_diff(refusal.changes)
        return result


def _guarded_warning(changes):
    """One warning for the points the purge keeps because a register or the tax office holds them: points in use
    that the list does not declare (declare them, or exclude them). Points kept only by purge_exclude are expected."""
    held = [c for c in changes if c.action == KEEP and set(c.guards) - {GUARD_EXCLUDED}]
    if not held:
        return None
    more = " and %d more" % (len(held) - 5) if len(held) > 5 else ""
    return ("purge kept %d point(s) that the list does not declare, because a register or the tax office holds "
            "them: %s%s (results[].reason says which); declare them, or name them in purge_exclude"
            % (len(held), ", ".join(repr(c.name or c.id) for c in held[:5]), more))
