# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Base class of the action plugins that talk to the cabinet from the controller.

It validates the task's arguments against the plugin's spec (env fallbacks included), lets the plugin
check its input before any request, opens one cabinet client for the whole task, and turns every expected
failure into a clean ``failed`` result. Subclasses implement ``prepare`` (no requests) and ``execute``.

Every client it opens refuses new writes once the controller (``ansible-playbook``) is gone (``_controller.py``),
and ``progress()`` gives a long step its progress lines (``_progress.py``).
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_client import client_from_options, warm_default_ssl_context
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetError
from ansible_collections.modulkassa.pos.plugins.module_utils._data_size import DataTooLarge, SizeBudget
from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import plain
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import PlanError
from ansible_collections.modulkassa.pos.plugins.plugin_utils._argument_checks import locate_element_error, raw_type_error
from ansible_collections.modulkassa.pos.plugins.plugin_utils._controller import ControllerWatch
from ansible_collections.modulkassa.pos.plugins.plugin_utils._progress import Progress

# Ansible imports an action plugin in the controller process (the strategy looks at its class) before it forks a
# worker per host and task; the default SSL context built here is inherited by all of them instead of being
# rebuilt (about 20 ms of CPU) in each.
warm_default_ssl_context()


def oversized_argument(task_args):
    """``(option, rule)`` of the first argument too large once YAML aliases are expanded (docs/fleet.md "Size
    limit"), or None. Checked before anything copies the arguments (the JSON round trip below, the argument
    spec's deep copy): a copy is what an alias bomb turns into minutes and gigabytes."""
    budget = SizeBudget()
    for name in task_args:
        try:
            budget.spend(str(name), task_args[name])
        except DataTooLarge as exc:
            return exc.path, exc.rule
    return None


class CabinetActionBase(ActionBase):
    """Runs entirely on the controller: no module is shipped and no remote connection is opened."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True  # set deliberately: every subclass does all reads and no write in check mode
    _supports_async = False

    argument_spec = {}
    validation_rules = {}
    # List options of which a single string is one entry: the argument spec would split it at commas, which point
    # names hold ("Тверская 7, касса 1").
    string_is_one_entry = ()
    controller = None  # the ControllerWatch of the running task (set by run)

    def prepare(self, args, task_vars):
        """Check the input beyond the argument spec; may not make requests. Returns what ``execute`` needs."""
        return None

    def execute(self, args, prepared, client, task_vars):
        """Do the work with ``client``; returns the result dict (``changed`` and friends)."""
        raise NotImplementedError

    @property
    def check_mode(self):
        return bool(self._task.check_mode)

    @property
    def diff_mode(self):
        return bool(self._task.diff)

    def _validate_arguments(self, task_args):
        """ActionBase.validate_argument_spec, applied to ``task_args`` (plain data) rather than the tagged originals."""
        validation = ArgumentSpecValidator(self.argument_spec, **self.validation_rules).validate(task_args)
        if validation.errors.errors:
            message = validation.errors.msg
            if isinstance(validation.errors.errors[0], UnsupportedError):
                message = "Unsupported parameters for (%s) module: %s" % (self._load_name, message)
            raise AnsibleActionFail(message)
        args = dict(task_args)
        args.update(validation.validated_parameters)
        return args

    def open_client(self, args, warnings):
        # list.append is atomic: safe from the planner's writer threads. A cancelled run's worker sends no new write.
        return client_from_options(args, warn=warnings.append, write_guard=self.controller.gone)

    def progress(self, client, task_vars, describe):
        """A ``Progress`` for a long step of this task: lines name the host, are redacted, stop with the controller."""
        return Progress((task_vars or {}).get("inventory_hostname"), describe, redact=client.redact,
                        stop=self.controller.gone)

    def run(self, tmp=None, task_vars=None):
        self.controller = ControllerWatch()  # first thing in the worker: which process is the controller
        result = super(CabinetActionBase, self).run(tmp, task_vars)
        del tmp  # no remote temp dir: nothing runs on the managed host
        oversized = oversized_argument(self._task.args)
        if oversized:
            result.update(failed=True, msg="Invalid input: %s: %s" % oversized, field=oversized[0])
            return result
        # Plain data (docs/scale.md): the argument spec deep-copies its input, and a deep copy of tagged values takes
        # Python's slow path (10,000 declared points cost seconds and about 30 MB); the plugins never need the tags.
        task_args = plain(self._task.args)
        for name in self.string_is_one_entry:
            if isinstance(task_args.get(name), str):
                task_args[name] = [task_args[name]]
        raw_error = raw_type_error(self.argument_spec, task_args)
        if raw_error:
            result.update(failed=True, msg="Invalid input: %s: %s" % raw_error, field=raw_error[0])
            return result
        try:
            args = self._validate_arguments(task_args)
        except AnsibleActionFail as exc:
            # The message names the option; no value is echoed, so a no_log value cannot leak here.
            located = locate_element_error(self.argument_spec, task_args, str(exc))
            if located:
                result.update(failed=True, msg="Invalid input: %s: %s" % located, field=located[0])
            else:
                result.update(failed=True, msg=str(exc))
            return result

        warnings = []
        try:
            prepared = self.prepare(args, task_vars or {})
            with self.open_client(args, warnings) as client:
                result.update(self.execute(args, prepared, client, task_vars or {}))
        except PointInputError as exc:
            result.update(failed=True, msg="Invalid input: %s" % exc, field=exc.path)
        except (PlanError, CabinetError) as exc:
            # CabinetError messages are already redacted by the client (password, codes, credentials).
            result.update(failed=True, msg=str(exc))
        except (IOError, OSError) as exc:
            # A local file (code_file) that cannot be written: a clean failure, not a traceback.
            result.update(failed=True, msg="%s: %s" % (getattr(exc, "filename", None) or "local file", exc.strerror or exc))
        if self.controller.gone():
            # The work is stopped and cleaned up, and nobody will read the result. Sending it could block this worker
            # forever: it holds both ends of the result pipe it shared with its dead controller, so once the pipe's
            # buffer is full (the task's arguments travel with the result: thousands of points) no reader comes and
            # no error either (measured: workers of a cancelled run hung for good). End it instead, the way
            # ansible-core's own worker ends on a fatal error.
            os._exit(1)  # pylint: disable=protected-access
        if warnings:
            result["warnings"] = result.get("warnings", []) + warnings
        if not self.diff_mode:
            result.pop("diff", None)
        return result
