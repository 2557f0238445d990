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
from ansible_collections.modulkassa.pos.plugins.module_utils._point_plan import PointPlan
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (
    PURGE_MAX_DEFAULT,
    check_purge_max,
    normalize_specs,
    purge_exclusions,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._saved_plan import (
    guard_points,
    load_saved_plan,
    plan_header,
    point_entry,
    point_entry_after,
    stale_message,
)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._argument_checks import locate_element_error, raw_type_error
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import diff_entries

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
        "saved_plan": {"type": "path"},
        "record_plan": {"type": "bool", "default": False},
    })
    validation_rules = {"required_one_of": [["points", "points_file"]],
                        "mutually_exclusive": [["points", "points_file"]]}
    string_is_one_entry = ("purge_exclude",)

    def prepare(self, args, task_vars):
        if not 1 <= args["concurrency"] <= 64:
            raise PointInputError("concurrency", "must be between 1 and 64")
        # The purge options are checked before any request, even without purge: a typo must not wait for the day
        # purge is turned on.
        args["purge_exclude"] = purge_exclusions(args["purge_exclude"])
        check_purge_max(args["purge_max"])
        saved = load_saved_plan(args["saved_plan"]) if args["saved_plan"] else None  # before any request
        if args["points_file"] is not None:
            # A relative path is relative to the playbook's directory, like the files a task reads.
            points = load_points_file(self._loader.path_dwim(args["points_file"]))
            return normalize_specs(validate_file_points(points), "points_file"), saved
        return normalize_specs(args["points"], "points"), saved

    def execute(self, args, prepared, client, task_vars):
        declared, saved = prepared
        plan = PointPlan.make(declared, client.list_points(), args["cabinet_login"], purge=args["purge"],
                              purge_exclude=args["purge_exclude"], purge_max=args["purge_max"])
        stale = guard_points(saved, plan, args["cabinet_login"]) if saved is not None else []
        if stale:
            plan.refuse(stale_message("retail point", stale))
        self._apply(plan, client, args, task_vars)
        result = plan.result()
        if stale:
            result["stale"] = stale
        if args["record_plan"]:
            # What modulkassa-plan writes to the saved plan (--out) or the applied record (--apply): no secret.
            result["plan"] = dict(plan_header(args["cabinet_login"]), points=[point_entry(c) for c in plan.changes])
            if not self.check_mode:
                result["plan"]["applied"] = [point_entry_after(c) for c in plan.changes]
        if self.diff_mode:
            # Rendering a YAML diff per changed point costs about 1 ms each: only when --diff asks for it.
            result["diff"] = diff_entries(plan.diff_entries())
        return result

    def _apply(self, plan, client, args, task_vars):
        if not plan.writes or self.check_mode:
            plan.apply(client, check_mode=self.check_mode, concurrency=args["concurrency"])
            return

        def describe(elapsed):
            # Counts only (read from the writer threads' outcomes): no point's data in a progress line.
            finished = [c.outcome for c in plan.writes if c.outcome in ("done", "failed", "not_attempted")]
            return "retail_points: %d of %d writes done, %d failed (%.0f s)" % (
                finished.count("done"), len(plan.writes), finished.count("failed"), elapsed)

        with self.progress(client, task_vars, describe):
            plan.apply(client, concurrency=args["concurrency"])
