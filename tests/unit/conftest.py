# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.modulkassa.pos`` importable when the tests run from a plain checkout.

Under ``ansible-test units`` (or with the collection installed) the import already works and nothing is
done. Otherwise ``<repo>/.tmp/pytest-collections/ansible_collections/modulkassa/pos`` is made a symlink to
the repository root and ``<repo>/.tmp/pytest-collections`` is put first on ``sys.path``. The symlink is
created under a unique name and renamed into place, so concurrent pytest-xdist workers cannot trip over
each other.
"""

from __future__ import annotations

import importlib
import os
import sys
import uuid

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_ROOT = os.path.join(REPO_ROOT, ".tmp", "pytest-collections")


def _importable():
    try:
        importlib.import_module("ansible_collections.modulkassa.pos.plugins.module_utils")
    except ImportError:
        return False
    return True


def _ensure_link():
    namespace_dir = os.path.join(COLLECTIONS_ROOT, "ansible_collections", "modulkassa")
    link = os.path.join(namespace_dir, "pos")
    os.makedirs(namespace_dir, exist_ok=True)
    if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(REPO_ROOT):
        return
    temp_link = "%s.%d.%s.tmp" % (link, os.getpid(), uuid.uuid4().hex)
    os.symlink(REPO_ROOT, temp_link)
    try:
        os.replace(temp_link, link)  # atomic: every worker ends with the same, complete symlink
    except OSError:
        os.unlink(temp_link)
        if not (os.path.islink(link) and os.path.realpath(link) == os.path.realpath(REPO_ROOT)):
            raise


def _setup_import_path():
    if _importable():
        return
    _ensure_link()
    if COLLECTIONS_ROOT not in sys.path:
        sys.path.insert(0, COLLECTIONS_ROOT)
    for name in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
        if sys.modules[name] is None:
            del sys.modules[name]  # forget a failed lookup cached by the first attempt
    importlib.invalidate_caches()
    # A namespace package ``ansible_collections`` imported before the path change recomputes its
    # __path__ from sys.path, so the import below now finds the symlinked collection.
    importlib.import_module("ansible_collections.modulkassa.pos.plugins.module_utils")


_setup_import_path()
