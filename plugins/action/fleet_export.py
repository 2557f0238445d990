# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.fleet_export: the cabinet account written as fleet data (docs: the module file).

One list request; the mapping is ``module_utils/_fleet_export.py``, the text ``plugin_utils/_fleet_export_render.py``.
The destination is checked before the request, and the files are written only once every one of them is rendered.
"""

from __future__ import annotations

import os

from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_export import check_selection, export_fleet
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._fleet_export_render import render_fleet

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


def _read_text(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None


def _write_text(path, text):
    """Replace ``path`` with ``text`` in one step: a reader never sees half a file, an interrupted run no stub."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        with open(temporary, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


class ActionModule(CabinetActionBase):

    argument_spec = with_cabinet_options({
        "dest": {"type": "path", "required": True},
        "force": {"type": "bool", "default": False},
        "inn": {"type": "list", "elements": "str", "default": []},
        "names": {"type": "list", "elements": "str", "default": []},
    })
    string_is_one_entry = ("names",)  # one pattern, as a point name holding a comma is one name

    def prepare(self, args, task_vars):
        check_selection(args["inn"], args["names"])
        dest = os.path.abspath(args["dest"])
        if os.path.exists(dest) and not os.path.isdir(dest):
            raise PointInputError("dest", "%s exists and is not a directory" % dest)
        if os.path.isdir(dest) and os.listdir(dest) and not args["force"]:
            raise PointInputError("dest", "%s is not empty: export into a new or empty directory, or set force "
                                  "(modulkassa_export_force: true) to replace the export's files there (other files "
                                  "are left as they are)" % dest)
        return dest

    def execute(self, args, prepared, client, task_vars):
        dest = prepared
        fleet = export_fleet(client.list_points(), args["cabinet_login"], args["inn"], args["names"])
        texts = render_fleet(fleet, args["cabinet_url"], args["cabinet_login"])

        files, diffs = [], []
        for relative, text in texts.items():
            path = os.path.join(dest, relative)
            before = _read_text(path)
            action = CREATE if before is None else (UNCHANGED if before == text else UPDATE)
            files.append({"path": relative, "action": action, "bytes": len(text.encode("utf-8"))})
            if action != UNCHANGED:
                diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": text})
        changed = any(item["action"] != UNCHANGED for item in files)
        if changed and not self.check_mode:
            for item in files:
                if item["action"] != UNCHANGED:
                    _write_text(os.path.join(dest, item["path"]), texts[item["path"]])

        result = {
            "changed": changed,
            "dest": dest,
            "files": files,
            "summary": fleet["summary"],
            "registers": [{"host": host["host"], "serial": host["serial"], "points": host["points"]}
                          for host in fleet["registers"]],
        }
        if diffs:
            result["diff"] = diffs
        warnings = self._warnings(fleet)
        if warnings:
            result["warnings"] = warnings
        return result

    @staticmethod
    def _warnings(fleet):
        warnings = []
        shared = sorted(set(item["name"] for item in fleet["points"] if item["name_shared"]))
        if shared:
            warnings.append("%d point names are held by more than one point of the account (%s): validation refuses "
                            "them until each name is unique; the ids are kept, so renaming one in the data renames it "
                            "in the cabinet" % (len(shared), ", ".join(repr(name) for name in shared[:10])))
        summary = fleet["summary"]
        if summary["points_with_values_not_declared"]:
            warnings.append("%d points hold values the fleet data cannot declare; each is named in a comment beside "
                            "its point" % summary["points_with_values_not_declared"])
        if summary["registers_holding_points_outside"]:
            warnings.append("%d registers also hold points outside this export (named in a comment beside each); the "
                            "registers role would release them" % summary["registers_holding_points_outside"])
        return warnings
