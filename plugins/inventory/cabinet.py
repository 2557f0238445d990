# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: cabinet
short_description: The retail points of a ModulKassa cabinet and the registers that hold them, as an inventory
version_added: 0.1.0
description:
  - Reads the account's retail points from the cabinet with one request (C(GET /api/v1/retail-points)) and builds
    an inventory of what the cabinet says B(is) - the as-is view beside the git data that says what B(should be).
  - B(Hosts) are the registers the cabinet knows - each serial number found in an active point's C(kkmInfo) - named
    by serial. The cabinet knows no addresses; set C(ansible_host) with O(compose) (for example from a DNS naming
    convention) to reach them over SSH.
  - B(Groups) - one per retail point, named O(point_group_prefix) plus the point's name made a valid group name
    (lower case, every run of characters other than letters, digits and C(_) replaced by C(_); Cyrillic letters
    are kept unless O(ascii_group_names) is set; two points that would share a name get their id's first 8
    characters appended). A point's group holds the registers that serve it; a point no register holds is an empty
    group. Every point group is a child of V(modulkassa_retail_points) and of one state group -
    V(modulkassa_points_active) (a register holds it), V(modulkassa_points_pending) (an activation code is waiting
    to be redeemed) or V(modulkassa_points_inactive). Every register is in V(modulkassa_registers).
  - With O(declared_points) or O(declared_points_files) (the git data), every point group is also a child of
    V(modulkassa_points_managed) or V(modulkassa_points_unmanaged) - points that the cabinet has and the git data does
    not declare, for audits.
  - B(Health groups) - what the cabinet says about a register (the C(kktStatus) of the points it holds) and its
    registration with the tax office (their C(registrationRequestStatus)). A register in trouble (a state of severity
    V(warning) or V(critical)) is in V(health_trouble) (always present, empty when all is well). A register is also
    in one group per state it shows that is not plain V(ok), named C(health_) plus the C(kktStatus) in lower case
    (V(health_pos_version_outdated), V(health_kkt_not_enabled_for_fz54), V(health_fn_not_plugged),
    V(health_not_registered)) or C(health_registration_) plus the C(registrationRequestStatus) in lower case
    (V(health_registration_error), V(health_registration_report_print_error), and the registrations under way such as
    V(health_registration_ofd_wait_rnm)); a value the collection does not know puts it in V(health_unknown). These
    groups exist only when a register is in them. A point no register holds is in none (no host). The states, their
    severities and what to do - C(docs/gitops.md), "Register health".
  - B(Host variables) of a register - C(modulkassa_register_serial), C(modulkassa_register_model),
    C(modulkassa_register_app_version), C(modulkassa_cabinet_point_names) (the names of the points it holds, sorted)
    and C(modulkassa_cabinet_points) (those points with their attributes - C(id), C(name), C(address), C(phone),
    C(inn), C(kpp), C(tax_mode), C(vat_tag), C(fiscal_service_enabled), C(kkt_status), C(registration_status),
    C(group), C(activated_at) and, with declared points, C(managed)), and C(modulkassa_register_health) (C(severity),
    C(trouble) and C(findings) - each state that is not V(ok) with C(retail_point), C(field), C(state), C(severity)
    and C(action), what to do). Point groups carry no variables - a register serving two points would see only one of
    them.
  - The activation code (C(posLinkToken)) and the password are never stored in the inventory, the cache or output.
  - Supports O(compose), O(groups) and O(keyed_groups) on the register hosts, and the inventory cache (the point list
    is cached; the declared points are read on every run), so it can serve as an AWX inventory source with the
    credentials injected as E(MODULKASSA_URL), E(MODULKASSA_LOGIN) and E(MODULKASSA_PASSWORD).
  - The inventory file's name must end in C(.cabinet.yml) or C(.cabinet.yaml).
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  plugin:
    description: The name of this plugin; it makes the file an inventory source of this plugin.
    type: str
    required: true
    choices: [modulkassa.pos.cabinet]
  point_group_prefix:
    description:
      - Prefix of the per-point group names. Must start with a letter or C(_).
    type: str
    default: point_
  ascii_group_names:
    description:
      - Transliterate Cyrillic letters of point names into Latin ones (C(Москва) gives C(moskva)) for group names that
        are easy to type in any shell. Host names (serials) are not affected.
    type: bool
    default: false
  declared_points:
    description:
      - Names or ids of the points the git data declares; every other point of the cabinet is V(unmanaged).
    type: list
    elements: str
    default: []
  declared_points_files:
    description:
      - Files of the git data that declare points (YAML or JSON, vault-encrypted ones too), relative to this inventory
        file's directory unless absolute; shell-style patterns (C(group_vars/*/retail_points.yml)) are expanded and
        must match at least one file. From each file the list under O(declared_points_var) is read (or the whole
        file, when it is a list); its elements are point mappings (C(name) and/or C(id)) or plain names.
      - Together with O(declared_points); setting either turns the managed/unmanaged groups on.
    type: list
    elements: path
    default: []
  declared_points_var:
    description:
      - The key holding the declared points in O(declared_points_files) (the roles' variable).
    type: str
    default: modulkassa_points
extends_documentation_fragment:
  - modulkassa.pos.cabinet.plugins
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
notes:
  - One request per refresh, whatever the size of the account. With the cache on, a run within O(cache_timeout) makes
    none; C(ansible-inventory --flush-cache) (ansible-core 2.19 and later; before, C(ansible-playbook --flush-cache))
    forces a refresh.
  - A failed request (wrong password, cabinet down) fails the source with one message that names the request and the
    reason, never the password.
seealso:
  - module: modulkassa.pos.retail_point_info
  - module: modulkassa.pos.register_info
"""

EXAMPLES = r"""
# Three source files (one YAML document each; the first two shown as comments).
#
# prod.cabinet.yml - credentials from MODULKASSA_URL / MODULKASSA_LOGIN / MODULKASSA_PASSWORD:
#   plugin: modulkassa.pos.cabinet
#
# audit.cabinet.yml - `ansible-inventory -i audit.cabinet.yml --graph modulkassa_points_unmanaged` lists the points
# that exist in the cabinet but not in the git data, and `--graph health_trouble` the registers in trouble
# (health_fn_not_plugged: those without a fiscal drive, ...):
#   plugin: modulkassa.pos.cabinet
#   declared_points_files:
#     - group_vars/all/retail_points.yml
#
# awx.cabinet.yml - an AWX inventory source: reachable registers, grouped by model and by legal entity (INN),
# cached for 10 minutes:
plugin: modulkassa.pos.cabinet
ascii_group_names: true
compose:
  # the chain's DNS convention: SN-REG01 -> sn-reg01.registers.example.net
  ansible_host: modulkassa_register_serial | lower ~ '.registers.example.net'
keyed_groups:
  - key: modulkassa_register_model
    prefix: model
  - key: modulkassa_cabinet_points | map(attribute='inn') | unique | list
    prefix: inn
groups:
  outdated_app: modulkassa_register_app_version is version('2.0.0', '<')
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/modulkassa-inventory
cache_timeout: 600
"""

import glob
import hashlib
import os
import re

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_client import CLIENT_OPTIONS, client_from_options
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_index import reference_key
from ansible_collections.modulkassa.pos.plugins.module_utils._health import (
    KKT_FIELD,
    NO_REGISTRATION_REQUEST,
    REGISTRATION_FIELD,
    TROUBLE_GROUP,
    assess,
    group_of,
    is_trouble,
    statuses_of,
    worst,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import MANAGED_FIELDS
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import activation_of, canonical_actual

REGISTERS_GROUP = "modulkassa_registers"
POINTS_GROUP = "modulkassa_retail_points"
STATE_GROUPS = {"active": "modulkassa_points_active", "pending": "modulkassa_points_pending",
                "inactive": "modulkassa_points_inactive"}
MANAGED_GROUP = "modulkassa_points_managed"
UNMANAGED_GROUP = "modulkassa_points_unmanaged"
POINT_KEYS = ("id",) + MANAGED_FIELDS + (KKT_FIELD, REGISTRATION_FIELD)

_NOT_GROUP_CHARS = re.compile(r"\W+")
_GLOB_MAGIC = re.compile(r"[*?[]")
_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"]))


def point_record(point):
    """What the inventory keeps of a cabinet point: canonical attributes and activation, no code, no settings blob."""
    record = {"id": str(point["id"])}
    record.update(canonical_actual(point))
    activation = activation_of(point)
    kkm = point.get("kkmInfo") if isinstance(point.get("kkmInfo"), dict) else {}
    record.update({
        "active": activation["active"],
        KKT_FIELD: activation["kkt_status"],
        "code_pending": activation["code_pending"],
        REGISTRATION_FIELD: statuses_of(point)[1],
        "register": {
            "serial": kkm.get("serialNumber"),
            "model": kkm.get("model"),
            "app_version": kkm.get("appVersion"),
            "activated_at": kkm.get("activatedAt"),
        } if activation["active"] and kkm.get("serialNumber") else None,
    })
    return record


def register_health(points):
    """``modulkassa_register_health`` of a register from the records of the points it holds, and its health groups."""
    findings, groups = [], set()
    for point in points:
        # A record cached by an older version may lack the registration status: no request, as the cabinet means it.
        health = assess(point[KKT_FIELD], point.get(REGISTRATION_FIELD) or NO_REGISTRATION_REQUEST)
        for finding in health["findings"]:
            findings.append({"retail_point": point["name"], "field": finding["field"], "state": finding["state"],
                             "severity": finding["severity"], "action": finding["action"]})
            groups.add(group_of(finding["field"], finding["state"]))
    severity = worst(f["severity"] for f in findings)
    if is_trouble(severity):
        groups.add(TROUBLE_GROUP)
    return {"severity": severity, "trouble": is_trouble(severity), "findings": findings}, sorted(groups)


def state_of(record):
    if record["active"]:
        return "active"
    return "pending" if record["code_pending"] else "inactive"


def group_name(prefix, name, ascii_only=False):
    text = name.lower()
    if ascii_only:
        text = "".join(_TRANSLIT.get(char, char) for char in text)
        text = text.encode("ascii", "ignore").decode("ascii")
    text = _NOT_GROUP_CHARS.sub("_", text).strip("_")
    return prefix + (text or "unnamed")


def point_groups(records, prefix, ascii_only=False):
    """{point id: group name}; names that two points would share get the id's first 8 characters appended."""
    wanted = dict((r["id"], group_name(prefix, r["name"] or r["id"], ascii_only)) for r in records)
    counts = {}
    for name in wanted.values():
        counts[name] = counts.get(name, 0) + 1
    return dict((point_id, name if counts[name] == 1 else "%s_%s" % (name, point_id.replace("-", "")[:8]))
                for point_id, name in wanted.items())


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "modulkassa.pos.cabinet"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".cabinet.yml", ".cabinet.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        prefix = self.get_option("point_group_prefix")
        if not re.match(r"^[^\W\d]", prefix or "", re.UNICODE):
            raise AnsibleParserError("%s: point_group_prefix must start with a letter or '_', got %r" % (path, prefix))
        declared = self._declared_points(path)  # before any request: a wrong path fails without touching the cabinet
        records = self._points(path, cache)
        self._populate(records, declared, prefix)

    # -- the cabinet, through the cache ---------------------------------------------------------------------

    def _points(self, path, cache):
        url, login = self.get_option("cabinet_url"), self.get_option("cabinet_login")
        # The cache key names the account too: switching accounts in the same file must not serve the old list.
        account = hashlib.sha256(("%s\n%s" % (url, login)).encode("utf-8")).hexdigest()[:12]
        cache_key = "%s_%s" % (self.get_cache_key(path), account)
        use_cache = self.get_option("cache")
        if use_cache and cache:
            try:
                return self._cache[cache_key]
            except KeyError:
                pass
        records = self._fetch()
        if use_cache:
            self._cache[cache_key] = records
        return records

    def _fetch(self):
        options = dict((name, self.get_option(name)) for name in CLIENT_OPTIONS)
        if options["cabinet_password"] is not None:
            options["cabinet_password"] = to_text(options["cabinet_password"])  # a vaulted value decrypts here
        try:
            with client_from_options(options, warn=self.display.warning) as client:
                points = client.list_points()
        except CabinetError as exc:
            # Already redacted by the client; "from None": the chained httpx error could echo request details.
            raise AnsibleParserError("modulkassa.pos.cabinet: %s" % exc) from None
        return [point_record(p) for p in points if isinstance(p, dict) and p.get("id")]

    # -- the git data's declared points ---------------------------------------------------------------------

    def _declared_points(self, path):
        """The set of declared references (``reference_key``: lower-case ids, folded names), or None when no declared
        points are configured."""
        names = list(self.get_option("declared_points") or [])
        patterns = self.get_option("declared_points_files") or []
        if not names and not patterns:
            return None
        var = self.get_option("declared_points_var")
        base = os.path.dirname(os.path.abspath(path))
        found_var = not patterns
        for pattern in patterns:
            pattern = os.path.join(base, os.path.expanduser(pattern))
            files = sorted(glob.glob(pattern)) if _GLOB_MAGIC.search(pattern) else [pattern]
            files = [f for f in files if os.path.isfile(f)]
            if not files:
                raise AnsibleParserError("%s: declared_points_files: no file matches %s" % (path, pattern))
            for file_path in files:
                try:
                    data = self.loader.load_from_file(file_path)
                except AnsibleError as exc:
                    raise AnsibleParserError("%s: declared_points_files: cannot read %s: %s" % (path, file_path, exc))
                items = data.get(var) if isinstance(data, dict) else data
                if items is None:
                    continue  # a pattern may match files that declare something else
                found_var = True
                if not isinstance(items, list):
                    raise AnsibleParserError("%s: %s: %s must be a list of points" % (path, file_path, var))
                for index, item in enumerate(items):
                    names.extend(self._refs_of(item, "%s: %s[%d]" % (file_path, var, index)))
        if not found_var:
            raise AnsibleParserError("%s: declared_points_files: no file holds %r (see declared_points_var)" % (path, var))
        return set(reference_key(ref) for ref in names)

    @staticmethod
    def _refs_of(item, where):
        if isinstance(item, str):
            return [item]
        if isinstance(item, dict) and (item.get("name") or item.get("id")):
            return [str(item[key]) for key in ("name", "id") if item.get(key)]
        raise AnsibleParserError("%s: a declared point must be a name or a mapping with name or id" % where)

    # -- the inventory --------------------------------------------------------------------------------------

    def _populate(self, records, declared, prefix):
        inventory = self.inventory
        for group in [POINTS_GROUP, REGISTERS_GROUP, TROUBLE_GROUP] + list(STATE_GROUPS.values()):
            inventory.add_group(group)
        if declared is not None:
            inventory.add_group(MANAGED_GROUP)
            inventory.add_group(UNMANAGED_GROUP)
        groups = point_groups(records, prefix, self.get_option("ascii_group_names"))
        registers = {}
        for record in records:
            group = inventory.add_group(groups[record["id"]])
            inventory.add_child(POINTS_GROUP, group)
            inventory.add_child(STATE_GROUPS[state_of(record)], group)
            managed = None
            if declared is not None:
                managed = reference_key(record["id"]) in declared or reference_key(record["name"]) in declared
                inventory.add_child(MANAGED_GROUP if managed else UNMANAGED_GROUP, group)
            register = record["register"]
            if not register:
                continue
            host = registers.setdefault(register["serial"], {"register": register, "points": []})
            inventory.add_host(register["serial"], group=group)
            point = dict((key, record[key]) for key in POINT_KEYS)
            point.update(group=group, activated_at=register["activated_at"])
            if managed is not None:
                point["managed"] = managed
            host["points"].append(point)

        strict = self.get_option("strict")
        for serial in sorted(registers):
            register, points = registers[serial]["register"], registers[serial]["points"]
            points.sort(key=lambda p: p["name"])
            inventory.add_host(serial, group=REGISTERS_GROUP)
            health, health_groups = register_health(points)
            for group in health_groups:
                inventory.add_group(group)
                inventory.add_host(serial, group=group)
            hostvars = {
                "modulkassa_register_serial": serial,
                "modulkassa_register_model": register["model"],
                "modulkassa_register_app_version": register["app_version"],
                "modulkassa_cabinet_point_names": [p["name"] for p in points],
                "modulkassa_cabinet_points": points,
                "modulkassa_register_health": health,
            }
            for key, value in hostvars.items():
                inventory.set_variable(serial, key, value)
            self._set_composite_vars(self.get_option("compose"), hostvars, serial, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, serial, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, serial, strict=strict)
