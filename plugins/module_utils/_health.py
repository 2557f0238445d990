# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Register health: what the cabinet says about a retail point's register and its tax-office registration.

The cabinet reports two statuses on every point (``GET /api/v1/retail-points``): ``kktStatus``, the state of the
register (ККТ) holding the point, and ``registrationRequestStatus``, the state of the register's registration with
the tax office (ФНС) requested through the cabinet. This module is the one table of their values: for each, whether
it is trouble, how bad, the cabinet's own words for it and what to do. Every plugin result, the drift report, the
``set_stats`` summary, the inventory groups and ``modulkassa-plan --fail-on-health`` read it from here.

The values and the cabinet's words come from the cabinet's web app (a public copy of the 2017-2018 my.modulkassa.ru
front end): its ``KASSA_STATUS`` and ``SERVER_STATUS`` enums, their labels (``KASSA_STATUS_VALUE``,
``SERVER_STATUS_VALUE``) and the status cards it shows (``LK_STATUS_KASSA``, ``LK_STATUS_SERVER``, ``getLkStatus``).
The severities and the advice are the collection's reading of those cards.

Severities, in order (``SEVERITIES``):

* ``ok``: nothing to do (also: no register holds the point, which is the binding audit's business, not health);
* ``info``: not trouble; a registration under way (waiting for the tax office, or for a signature);
* ``warning``: trouble, the register still sells (its app is out of date), or a value this table does not know;
* ``critical``: trouble, the register cannot issue receipts the tax office accepts (no fiscal drive, not registered,
  the registration refused).

A point is *in trouble* when one of its findings is ``warning`` or worse. A value the table does not know is a
``warning`` finding of its own, named as the cabinet sent it: never dropped, never guessed.
"""

from __future__ import annotations

OK, INFO, WARNING, CRITICAL = "ok", "info", "warning", "critical"
SEVERITIES = (OK, INFO, WARNING, CRITICAL)
TROUBLE_SEVERITIES = (WARNING, CRITICAL)
UNKNOWN_SEVERITY = WARNING

# The names of the two statuses in results, reports and events (the EDA source's ``health`` uses the same names).
KKT_FIELD = "kkt_status"
REGISTRATION_FIELD = "registration_status"
API_FIELDS = {KKT_FIELD: "kktStatus", REGISTRATION_FIELD: "registrationRequestStatus"}

# The cabinet's own activation test: a point is active once a register reported in (``kktStatus`` other than this).
KKT_NOT_PLUGGED = "KKT_NOT_PLUGGED"
# What a point without a registration request reports (also the value the cabinet gives a new point).
NO_REGISTRATION_REQUEST = "NOT_EXISTS"

# Inventory groups (plugins/inventory/cabinet.py): every register with a finding is in its state's group, and every
# register in trouble in TROUBLE_GROUP. Group names are lower case letters, digits and "_".
GROUP_PREFIX = "health_"
TROUBLE_GROUP = "health_trouble"
UNKNOWN_GROUP = "health_unknown"

# state: the cabinet's value; severity; label: the cabinet's words for it (its status label, or the card's title);
# action: what to do, in the collection's words (None: nothing to do); group: the inventory group of a register in it.
KKT_STATES = (
    {"state": "REGISTERED", "severity": OK, "label": "Зарегистрирована",
     "meaning": "the register works in fiscal mode and is registered with the tax office", "action": None},
    {"state": KKT_NOT_PLUGGED, "severity": OK, "label": "Не подключена",
     "meaning": "no register holds the point (not activated yet, or released); whether one should is the binding "
                "audit's business", "action": None},
    {"state": "POS_VERSION_OUTDATED", "severity": WARNING, "label": "Старая версия приложения",
     "meaning": "the МодульКасса app on the register is older than the cabinet supports",
     "action": "update the МодульКасса app on the register (it normally updates itself soon; if it does not, "
               "update it by hand)"},
    {"state": "KKT_NOT_ENABLED_FOR_FZ54", "severity": CRITICAL, "label": "Не поддерживает 54 ФЗ",
     "meaning": "the register's fiscal device does not send receipts to the tax office as the 54-ФЗ rules require",
     "action": "check the register's model in the tax office's list of approved registers (kkt-online.nalog.ru): "
               "switch the device to 54-ФЗ (online) mode, or replace it"},
    {"state": "FN_NOT_PLUGGED", "severity": CRITICAL, "label": "ФН не подключен",
     "meaning": "the register reports no fiscal drive (ФН)",
     "action": "the register reports no fiscal drive: insert or replace the ФН, then re-register it with the tax "
               "office (a new ФН needs a new registration)"},
    {"state": "NOT_REGISTERED", "severity": CRITICAL, "label": "Не поставлена на учет",
     "meaning": "the register is not registered with the tax office (ФНС)",
     "action": "the register is not registered with the tax office (ФНС): register it in the cabinet "
               "(Регистрация ККТ)"},
)

REGISTRATION_STATES = (
    {"state": NO_REGISTRATION_REQUEST, "severity": OK, "label": "Заявки на регистрацию нет",
     "meaning": "no registration request was made in the cabinet (a register registered through another ОФД has "
                "none; one that is not registered at all shows NOT_REGISTERED as its kktStatus)", "action": None},
    {"state": "DRAFT", "severity": INFO, "label": "Есть заявка в статусе DRAFT",
     "meaning": "a registration request is drafted in the cabinet and not sent",
     "action": "finish the registration request in the cabinet (Регистрация ККТ) and send it, or leave it if the "
               "register is registered"},
    {"state": "STARTED", "severity": INFO, "label": "Регистрация начата",
     "meaning": "the registration has started", "action": "wait: the registration is under way"},
    {"state": "OFD_WAIT_DECL_SIGN", "severity": INFO, "label": "Ожидание облачной подписи",
     "meaning": "the registration application waits for the electronic signature (Требуется подпись)",
     "action": "sign the registration application with the electronic signature in the cabinet"},
    {"state": "DECL_SIGNING", "severity": INFO, "label": "Выполняется подпись",
     "meaning": "the registration application is being signed", "action": "wait: the application is being signed"},
    {"state": "OFD_WAIT_IRUD", "severity": INFO, "label": "Ожидание ответа от ИРУД",
     "meaning": "the application went to the tax office, which has not answered yet",
     "action": "wait for the tax office's answer (it comes by e-mail and phone)"},
    {"state": "OFD_WAIT_RNM", "severity": INFO, "label": "Ожидание ответа от ФНС",
     "meaning": "the tax office is assigning the register its registration number (РНМ)",
     "action": "wait for the tax office's answer (it comes by e-mail and phone)"},
    {"state": "OFD_WAIT_REPORT", "severity": INFO, "label": "Необходимо отправить Отчет о регистрации",
     "meaning": "the tax office waits for the register's registration report",
     "action": "send the registration report from the cabinet to finish the registration"},
    {"state": "REPORT_PRINT_REQUESTED", "severity": INFO, "label": "Формируется отчет о регистрации",
     "meaning": "the register was asked to print the registration report",
     "action": "wait: the register prints the registration report (it must be on and online)"},
    {"state": "REPORT_PRINTED", "severity": INFO, "label": "Ожидание отчета",
     "meaning": "the register printed the registration report", "action": "wait: the report is being formed"},
    {"state": "REPORT_PRINT_ERROR", "severity": CRITICAL, "label": "Ошибка печати отчета о регистрации на кассе",
     "meaning": "the register could not print the registration report, so the registration cannot finish",
     "action": "check that the register is on, online and has paper, then send the registration report again from "
               "the cabinet (or call МодульКасса support)"},
    {"state": "OFD_WAIT_REPORT_SIGN", "severity": INFO, "label": "Ожидание подписи отчета",
     "meaning": "the registration report waits for the electronic signature (Требуется подпись)",
     "action": "sign the registration report with the electronic signature in the cabinet"},
    {"state": "REPORT_SIGNING", "severity": INFO, "label": "Выполняется подпись",
     "meaning": "the registration report is being signed", "action": "wait: the report is being signed"},
    {"state": "OFD_WAIT_FOR_FINAL_RESPONSE", "severity": INFO, "label": "Ожидание ответа от ФНС",
     "meaning": "the registration report went to the tax office, which has not answered yet",
     "action": "wait for the tax office's final answer (it comes by e-mail and phone)"},
    {"state": "REGISTERED", "severity": OK, "label": "Успешно зарегистрирована",
     "meaning": "the tax office registered the register", "action": None},
    {"state": "ERROR", "severity": CRITICAL, "label": "Ошибка регистрации",
     "meaning": "the tax office refused the registration (Налоговая отклонила заявление о регистрации)",
     "action": "the tax office refused the registration: read the refusal in the cabinet (Регистрация ККТ, "
               "\"Скачайте уведомление\"), fix what it names and send the request again (Отправить повторно)"},
)

_TABLES = {KKT_FIELD: dict((row["state"], row) for row in KKT_STATES),
           REGISTRATION_FIELD: dict((row["state"], row) for row in REGISTRATION_STATES)}
_RANK = dict((severity, rank) for rank, severity in enumerate(SEVERITIES))

# The register reports it is not registered, but a registration request has started: the request's state says what
# is happening (the cabinet's card shows the request, not "register it"), so NOT_REGISTERED is not a finding then.
_REQUEST_NOT_STARTED = (NO_REGISTRATION_REQUEST, "DRAFT")


def group_of(field, state):
    """The inventory group of a register whose point is in ``state`` (of ``field``), or the unknown-value group."""
    if state not in _TABLES[field]:
        return UNKNOWN_GROUP
    return GROUP_PREFIX + ("registration_" if field == REGISTRATION_FIELD else "") + state.lower()


def is_trouble(severity):
    return severity in TROUBLE_SEVERITIES


def worst(severities, default=OK):
    """The worst of ``severities`` (``default`` when there is none)."""
    found = [s for s in severities if s in _RANK]
    return max(found, key=_RANK.get) if found else default


def at_least(severity, threshold):
    """Whether ``severity`` is ``threshold`` or worse."""
    return _RANK.get(severity, -1) >= _RANK[threshold]


def statuses_of(point):
    """``(kkt_status, registration_status)`` of a cabinet point, as strings; a missing field is what the cabinet means
    by its absence (no register: KKT_NOT_PLUGGED, as the cabinet's own UI assumes; no request: NOT_EXISTS)."""
    kkt = point.get(API_FIELDS[KKT_FIELD]) if isinstance(point, dict) else None
    registration = point.get(API_FIELDS[REGISTRATION_FIELD]) if isinstance(point, dict) else None
    return (str(kkt) if kkt not in (None, "") else KKT_NOT_PLUGGED,
            str(registration) if registration not in (None, "") else NO_REGISTRATION_REQUEST)


def _finding(field, state):
    row = _TABLES[field].get(state)
    if row is None:
        return {"field": field, "state": state, "severity": UNKNOWN_SEVERITY, "known": False, "label": None,
                "action": "the cabinet reports a %s (%s) this collection does not know: look at the point in the "
                          "cabinet; a newer version of the collection may know it" % (API_FIELDS[field], state)}
    return {"field": field, "state": state, "severity": row["severity"], "known": True, "label": row["label"],
            "action": row["action"]}


def assess(kkt_status, registration_status):
    """The health of one point from its two statuses: ``{kkt_status, registration_status, severity, trouble,
    findings}``; ``findings`` lists every status that is not ``ok`` (info included), worst first."""
    findings = []
    request_started = registration_status not in _REQUEST_NOT_STARTED
    for field, state in ((KKT_FIELD, kkt_status), (REGISTRATION_FIELD, registration_status)):
        if field == KKT_FIELD and state == "NOT_REGISTERED" and request_started:
            continue
        finding = _finding(field, state)
        if finding["severity"] != OK:
            findings.append(finding)
    findings.sort(key=lambda f: -_RANK[f["severity"]])
    severity = worst(f["severity"] for f in findings)
    return {KKT_FIELD: kkt_status, REGISTRATION_FIELD: registration_status, "severity": severity,
            "trouble": is_trouble(severity), "findings": findings}


def health_of(point):
    """The health of a cabinet point (the sibling of ``_point_model.activation_of``), as results carry it."""
    return assess(*statuses_of(point))


def register_serial_of(point):
    """The serial of the register the cabinet says holds the point, or None (no register: KKT_NOT_PLUGGED)."""
    if statuses_of(point)[0] == KKT_NOT_PLUGGED:
        return None
    kkm_info = point.get("kkmInfo") if isinstance(point.get("kkmInfo"), dict) else {}
    serial = kkm_info.get("serialNumber")
    return str(serial) if serial not in (None, "") else None


def register_health(serial, points):
    """What ``register`` (and the cabinet-only audit) return as ``health``: the points the register holds or declares,
    each as the cabinet returned it, and the register's own severity from the points it holds (``kktStatus``
    describes the register holding the point; a declared point another register holds tells about that one)."""
    entries = []
    for point in points:
        if not isinstance(point, dict) or not point.get("id"):
            continue
        entry = {"id": str(point["id"]), "name": point.get("name"), "register_serial": register_serial_of(point)}
        entry.update(health_of(point))
        entries.append(entry)
    entries.sort(key=lambda e: (str(e["name"]), e["id"]))
    severity = worst(e["severity"] for e in entries if e["register_serial"] == serial)
    return {"severity": severity, "trouble": is_trouble(severity), "points": entries}


def table_rows():
    """Every row of both tables with its field and inventory group (docs and tests)."""
    rows = []
    for field, table in ((KKT_FIELD, KKT_STATES), (REGISTRATION_FIELD, REGISTRATION_STATES)):
        for row in table:
            rows.append(dict(row, field=field, api_field=API_FIELDS[field], trouble=is_trouble(row["severity"]),
                             group=group_of(field, row["state"])))
    return rows


# ---- a fleet's health, from the points one run read --------------------------------------------------------

def summarize(records, register_hosts=None):
    """The health of every point a run saw: counts by state, the points with a finding and the registers in trouble.

    ``records``: ``{point id: {"id", "name", "register_serial", "kkt_status", "registration_status"}}`` (the last read
    of each point). ``register_hosts``: ``{serial: inventory host}`` of the registers the run reached. Pure; the drift
    report and the ``set_stats`` summary both build their ``health`` with it.
    """
    register_hosts = register_hosts or {}
    counts = {KKT_FIELD: {}, REGISTRATION_FIELD: {}, "severity": dict((s, 0) for s in SEVERITIES)}
    points, registers = [], {}
    for record in records.values():
        health = assess(record[KKT_FIELD], record[REGISTRATION_FIELD])
        for field in (KKT_FIELD, REGISTRATION_FIELD):
            counts[field][health[field]] = counts[field].get(health[field], 0) + 1
        counts["severity"][health["severity"]] += 1
        if not health["findings"]:
            continue
        serial = record.get("register_serial")
        entry = {"name": record.get("name"), "id": record.get("id"), "register_serial": serial,
                 "register_host": register_hosts.get(serial) if serial else None}
        entry.update(health)
        points.append(entry)
        if serial and health["trouble"]:
            register = registers.setdefault(serial, {"serial": serial, "host": register_hosts.get(serial),
                                                     "severity": OK, "retail_points": [], "states": []})
            register["severity"] = worst([register["severity"], health["severity"]])
            register["retail_points"].append(record.get("name") or record.get("id"))
            for finding in health["findings"]:
                if is_trouble(finding["severity"]) and finding["state"] not in register["states"]:
                    register["states"].append(finding["state"])
    points.sort(key=lambda p: (-_RANK[p["severity"]], str(p["name"]), str(p["id"])))
    for field in (KKT_FIELD, REGISTRATION_FIELD):
        counts[field] = dict(sorted(counts[field].items()))
    severity = worst(p["severity"] for p in points)
    in_trouble = [p for p in points if p["trouble"]]
    summary = {
        "points": len(records),
        "points_in_trouble": len(in_trouble),
        "registers_in_trouble": len(registers),
        "points_informational": len(points) - len(in_trouble),
    }
    registers = sorted(registers.values(), key=lambda r: (-_RANK[r["severity"]], r["serial"]))
    for register in registers:
        register["retail_points"].sort(key=str)
    return {"severity": severity, "trouble": is_trouble(severity), "summary": summary, "counts": counts,
            "points": points, "registers": registers}
