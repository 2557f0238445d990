# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hypothesis strategies and the convergence property of the point planner (issue 6).

Shared by ``test_point_planner_properties.py`` (an in-memory cabinet, many examples) and
``tests/integration/test_planner_properties_emulator.py`` (the real emulator, a few examples). Not a test module.
"""

from __future__ import annotations

import copy
import threading
import uuid

from hypothesis import strategies as st

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import (
    CabinetConflict,
    CabinetNotFound,
    CabinetValidationError,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    MANAGED_FIELDS,
    PointInputError,
    canonical_actual,
    canonical_desired,
    point_name_key,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (
    PlanError,
    PurgeRefused,
    apply_plan,
    normalize_specs,
    plan_points,
)

LOGIN = "ops@example.com"
NAMES = ["Shop %d" % i for i in range(6)] + ["Магазин «Центр»", "Tverskaya 1 / корп. 2"]
# Cabinet names equal to declared ones only after folding (point_name_key): made by hand, in another case or
# spacing. The planner treats a declared name as such a point (a rename), or refuses when it folds onto several.
FOLDED_NAMES = ["shop 1", "SHOP 1", "Shop  2", "магазин «центр»"]
# The same value in the forms users write it, so the canonical model is exercised too.
PHONES = ["+7 912 345-67-89", "8 (912) 345 67 89", "9123456789", "+7 (495) 123-45-67", ""]
INNS = ["7707083893", "500100732259", "7736050003", ""]
KPPS = ("773601001", "7736ab001", "")  # lower case: the model upper-cases KPP letters
TAX_MODES = ["COMMON", "common", "PATENT", "SIMPLIFIED"]
VAT_TAGS = [1102, 1105, 1107]
ADDRESSES = ["Moscow, Tverskaya 1", "Казань, Баумана 5", "  padded  ", ""]

ATTRIBUTES = {
    "address": st.sampled_from(ADDRESSES),
    "phone": st.sampled_from(PHONES),
    "inn": st.sampled_from(INNS),
    "kpp": st.sampled_from(KPPS),
    "tax_mode": st.sampled_from(TAX_MODES),
    "vat_tag": st.sampled_from(VAT_TAGS),
    "fiscal_service_enabled": st.booleans(),
}


def _consistent(spec):
    """A 12-digit INN allows no KPP (the model rejects it: bad input is another test's job)."""
    if len(spec.get("inn") or "") == 12 and spec.get("kpp"):
        spec = dict(spec)
        spec["kpp"] = ""
    return spec


def _attributes(kpps):
    return dict(ATTRIBUTES, kpp=st.sampled_from(kpps))


@st.composite
def declared_point(draw, name, kpps=KPPS):
    spec = {"name": name}
    attributes = _attributes(kpps)
    for field in draw(st.sets(st.sampled_from(sorted(attributes)))):
        spec[field] = draw(attributes[field])
    if draw(st.integers(0, 5)) == 0:
        spec["state"] = "absent"
    return _consistent(spec)


@st.composite
def desired_points(draw, kpps=KPPS):
    """``kpps``: the KPP values to draw from (the emulator takes digits only; the model also takes letters)."""
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=6))
    return [draw(declared_point(name, kpps)) for name in names]


# What the cabinet may report about a point beside its attributes (``health=True``): nothing, a register holding
# it, a tax-office registration under way (the cabinet refuses to delete it), or a finished registration.
HEALTH = (
    {},
    {},
    {"kktStatus": "REGISTERED", "kkmInfo": {"serialNumber": "SN-PROP1", "model": "MSPOS-K"}},
    {"kktStatus": "NOT_REGISTERED", "kkmInfo": {"serialNumber": "SN-PROP2"}, "registrationRequestStatus": "STARTED"},
    {"registrationRequestStatus": "OFD_WAIT_RNM"},
    {"registrationRequestStatus": "REGISTERED"},
)
# The cabinet's delete rule, written out here rather than imported: the test must not share the planner's copy.
DELETABLE = ("NOT_EXISTS", "DRAFT", "ERROR", "REGISTERED")


def is_active(point):
    return point.get("kktStatus", "KKT_NOT_PLUGGED") != "KKT_NOT_PLUGGED"


def delete_forbidden(point):
    return (point.get("registrationRequestStatus") or "NOT_EXISTS") not in DELETABLE


@st.composite
def cabinet_point(draw, name, kpps=KPPS, health=False):
    """A point as the cabinet returns it (attributes nested, phone in 10 digits or as someone typed it)."""
    spec = _consistent(dict((field, draw(strategy)) for field, strategy in _attributes(kpps).items()))
    settings = {"defaultTaxMode": spec["tax_mode"].upper(), "defaultVatTag": spec["vat_tag"],
                "fiscalServiceEnabled": spec["fiscal_service_enabled"]}
    if spec["kpp"]:
        settings["egaisSettings"] = {"kpp": spec["kpp"]}
    point = {"id": str(draw(st.uuids())), "name": name, "address": spec["address"].strip() or None,
             "phone": canonical_desired({"phone": spec["phone"]}).get("phone") or None, "inn": spec["inn"] or None,
             "settings": settings, "posLinkToken": None, "kktStatus": "KKT_NOT_PLUGGED", "kkmInfo": None,
             "registrationRequestStatus": "NOT_EXISTS"}
    if health:
        point.update(copy.deepcopy(draw(st.sampled_from(HEALTH))))
    return point


@st.composite
def actual_points(draw, kpps=KPPS, names=NAMES, health=False):
    """``health``: some points active on a register or under registration (the unit tests' in-memory cabinet only:
    the emulator sets them through its own endpoint)."""
    names = draw(st.lists(st.sampled_from(names), unique=True, max_size=6))
    return [draw(cabinet_point(name, kpps, health)) for name in names]


def _deep_merge(base, patch):
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_kpp_allowed(method, point, patch=None):
    """The cabinet's cross-field rules: a 12-digit INN allows no KPP (400 kpp-not-allowed); a 10-digit INN needs
    one (400 kpp-required) on a create, or on an update (``patch``) that sets the INN or the KPP."""
    kpp = ((point.get("settings") or {}).get("egaisSettings") or {}).get("kpp")
    inn = point.get("inn") or ""
    if len(inn) == 12 and kpp:
        raise CabinetValidationError("%s: the cabinet rejected the request (400 kpp-not-allowed)" % method, status=400,
                                     code="kpp-not-allowed")
    sets_pair = patch is None or "inn" in patch or "kpp" in ((patch.get("settings") or {}).get("egaisSettings") or {})
    if len(inn) == 10 and not kpp and sets_pair:
        raise CabinetValidationError("%s: the cabinet rejected the request (400 kpp-required)" % method, status=400,
                                     code="kpp-required")


class InMemoryCabinet(object):
    """The cabinet API's semantics for points (as docs/architecture.md describes them), in memory. Points given to
    the constructor are stored as they are: a legal entity without a KPP stands for one made before the rule."""

    def __init__(self, points=()):
        self.points = dict((p["id"], copy.deepcopy(p)) for p in points)
        self.writes = 0
        self._lock = threading.Lock()

    def list_points(self):
        with self._lock:
            return [copy.deepcopy(p) for p in self.points.values()]

    def get_point(self, point_id):
        with self._lock:
            if point_id not in self.points:
                raise CabinetNotFound("GET: not found", status=404)
            return copy.deepcopy(self.points[point_id])

    def create_point(self, body):
        with self._lock:
            self.writes += 1
            if body["id"] in self.points:
                raise CabinetConflict("POST: retail-point-already-exists", status=409)
            point = _deep_merge({"kktStatus": "KKT_NOT_PLUGGED", "posLinkToken": None, "kkmInfo": None,
                                 "settings": {}}, body)
            _check_kpp_allowed("POST", point)
            self.points[body["id"]] = point
            return copy.deepcopy(point)

    def update_point(self, point_id, partial):
        with self._lock:
            self.writes += 1
            if point_id not in self.points:
                raise CabinetNotFound("PUT: not found", status=404)
            point = _deep_merge(self.points[point_id], partial)
            _check_kpp_allowed("PUT", point, partial)
            self.points[point_id] = point
            return copy.deepcopy(point)

    def delete_point(self, point_id):
        with self._lock:
            self.writes += 1
            if point_id in self.points and delete_forbidden(self.points[point_id]):
                raise CabinetConflict("DELETE: conflict (409 retail-point-delete-forbidden)", status=409,
                                      code="retail-point-delete-forbidden")
            if self.points.pop(point_id, None) is None:
                raise CabinetNotFound("DELETE: not found", status=404)


def converge(client, desired, purge, actual=None, check_mode=False, login=LOGIN):
    """plan + apply against ``client``; ``actual`` defaults to the client's whole list.

    Returns the changes, or the error of a declaration that contradicts the cabinet (a PointInputError: a KPP for a
    point whose INN there has 12 digits; a PlanError: a name that folds onto several cabinet points): such a plan
    must fail before any write, naming the field or the ids."""
    actual = client.list_points() if actual is None else actual
    try:
        changes = plan_points(normalize_specs(desired), actual, login, purge=purge)
    except PointInputError as exc:
        assert exc.path.endswith(".kpp"), exc
        return exc
    except PurgeRefused as exc:
        # Only the empty declaration can trip it here (at most 6 points, purge_max 10): nothing declared present.
        assert purge and not [spec for spec in desired if spec.get("state") != "absent"], exc
        return exc
    except PlanError as exc:
        ambiguous = [spec["name"] for spec in desired if len(designated(spec["name"], actual)) > 1]
        assert ambiguous and "ambiguous" in str(exc), exc
        return exc
    failed = apply_plan(changes, client, check_mode=check_mode, concurrency=4)
    assert not failed, [(c.name, c.error) for c in failed]
    return changes


def designated(name, points):
    """The cabinet points a declared name designates: those whose names are equal after folding."""
    return [p for p in points if point_name_key(p["name"]) == point_name_key(name)]


def assert_converged(desired, purge, before, after):
    """``after`` (the cabinet's points) is what ``desired`` declares, given what was ``before``."""
    by_name, after_by_id = {}, dict((p["id"], p) for p in after)
    for point in after:
        by_name.setdefault(point["name"], []).append(point)
    assert all(len(points) == 1 for points in by_name.values()), "duplicate names: %s" % sorted(by_name)
    declared = dict((spec["name"], spec) for spec in desired)
    matched = set()
    for name, spec in declared.items():
        was = designated(name, before)
        assert len(was) <= 1, "an ambiguous name was planned: %s" % name
        matched.update(p["id"] for p in was)
        if spec.get("state") == "absent":
            assert name not in by_name, "%s should be absent" % name
            assert not was or was[0]["id"] not in after_by_id, "%s (as %r) should be absent" % (name, was[0]["name"])
            continue
        assert name in by_name, "%s should exist" % name
        if was:
            assert by_name[name][0]["id"] == was[0]["id"], "%s: a near-duplicate of %r was made" % (name, was[0]["name"])
        want = canonical_desired(spec)
        got = canonical_actual(by_name[name][0])
        assert dict((f, got[f]) for f in want) == want, "%s: %s != %s" % (name, got, want)
    untouched = [p for p in before if p["id"] not in matched]
    if purge:
        assert set(by_name) <= set(declared), "purge left %s" % sorted(set(by_name) - set(declared))
    else:
        for point in untouched:
            assert after_by_id.get(point["id"]) == point, "an undeclared point was touched: %s" % point["name"]


def predicted_equals_applied(predicted_changes, applied_changes):
    """Check mode's predicted point of every change has the managed fields the real write produced."""
    applied = dict((c.name, c) for c in applied_changes)
    for change in predicted_changes:
        real = applied[change.name]
        assert change.action == real.action, change.name
        if change.point is None or real.point is None:
            assert change.point is None and real.point is None, change.name
            continue
        assert canonical_actual(change.point) == canonical_actual(real.point), change.name
        assert dict((f, change.after().get(f)) for f in MANAGED_FIELDS) == dict((f, real.after().get(f)) for f in MANAGED_FIELDS)


def fresh_tag():
    return uuid.uuid4().hex[:8]
