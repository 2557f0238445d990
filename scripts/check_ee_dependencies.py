# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ee-introspect gate (scripts/sanity.sh): what ansible-builder would put into an execution environment for the
INSTALLED collection is exactly what requirements.txt and bindep.txt declare.

    python scripts/check_ee_dependencies.py INTROSPECTED_PIP INTROSPECTED_BINDEP REQUIREMENTS_TXT BINDEP_TXT

The introspected files are ``ansible-builder introspect --write-pip F --write-bindep G <collections dir>``. A
requirement missing there (meta/execution-environment.yml not shipped, a file left out of the tarball) or one that
is not ours fails. ansible-builder leaves out on purpose what every EE has (ansible-core, PyYAML, ...: its own
EXCLUDE_REQUIREMENTS); those are read from ansible-builder itself and only reported.
"""

from __future__ import annotations

import re
import sys

from ansible_builder._target_scripts.introspect import EXCLUDE_REQUIREMENTS


def _lines(path):
    """Requirement lines without comments (ansible-builder appends ``# from collection x.y``) and blanks."""
    with open(path, encoding="utf-8") as handle:
        return [line.split("#", 1)[0].strip() for line in handle if line.split("#", 1)[0].strip()]


def _name(requirement):
    """The normalized package name of a pip requirement line (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]).lower()


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    introspected_pip, introspected_bindep, requirements, bindep = argv
    problems = []

    declared = dict((_name(r), r) for r in _lines(requirements))
    found = dict((_name(r), r) for r in _lines(introspected_pip))
    for name, requirement in sorted(declared.items()):
        if name in found:
            if found[name].replace(" ", "") != requirement.replace(" ", ""):
                problems.append("python: ansible-builder has %r, requirements.txt %r" % (found[name], requirement))
        elif name in EXCLUDE_REQUIREMENTS:
            print("python: %s - left out by ansible-builder (every execution environment has it)" % requirement)
        else:
            problems.append("python: %s is in requirements.txt but not in what ansible-builder found" % requirement)
    for name in sorted(set(found) - set(declared)):
        problems.append("python: ansible-builder found %r, which requirements.txt does not declare" % found[name])

    declared_system, found_system = _lines(bindep), _lines(introspected_bindep)
    for line in declared_system:
        if line not in found_system:
            problems.append("system: %s is in bindep.txt but not in what ansible-builder found" % line)
    for line in found_system:
        if line not in declared_system:
            problems.append("system: ansible-builder found %r, which bindep.txt does not declare" % line)

    for line in sorted(found.values()) + found_system:
        print("ok   %s" % line)
    for problem in problems:
        print("FAIL %s" % problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
