"""Validation of a retail point the way the cabinet's form does it.

``point_problems`` returns every problem as ``(field, code)``; the endpoint answers 400 with the first
code as ``message`` and all of them in ``errors``. Optional fields may be absent, ``null`` or ``""``
(the collection clears a phone or an INN by sending ``""``).

The INN/KPP pair is checked across fields: a 12-digit INN (an individual entrepreneur) allows no KPP, and a
10-digit INN (a legal entity) needs one, as the cabinet's form does. The second rule applies to a create and to
a partial update that sets ``inn`` or the KPP; an update of other fields leaves a point stored without a KPP
(created before the rule, or by another tool) as it is (our choice: the real API's behaviour is not published).
"""

from __future__ import annotations

import re

NAME_MAX = 255

# The tax data: a copy of the collection's table (plugins/module_utils/_tax_data.py, where every value's public
# source is named); the emulator never imports the collection. A unit test keeps the two equal.
# settings.defaultTaxMode: the vendor's published enum. ENVD (abolished in 2021) stays valid here because the cabinet
# still holds old points in it; refusing it for new points is the collection's rule, not the cabinet's.
TAX_MODES = frozenset(
    ("COMMON", "SIMPLIFIED", "SIMPLIFIED_WITH_EXPENSE", "ENVD", "COMMON_AGRICULTURAL", "PATENT"))
# settings.defaultVatTag: 1102 20%, 1103 10%, 1104 0%, 1105 no VAT, 1106 20/120, 1107 10/110 (the vendor's first six);
# 1109 5%, 1110 7%, 1111 5/105, 1112 7/107 (since 2025); 1113 22%, 1114 22/122 (since 2026). 1108 is not a rate.
VAT_TAGS = frozenset((1102, 1103, 1104, 1105, 1106, 1107, 1109, 1110, 1111, 1112, 1113, 1114))

# kktStatus: the state of the register holding the point, as the cabinet's web app names them. KKT_NOT_PLUGGED means
# no register holds it (the cabinet's own test of "active").
KKT_NOT_PLUGGED = "KKT_NOT_PLUGGED"
KKT_STATUSES = frozenset((
    KKT_NOT_PLUGGED, "POS_VERSION_OUTDATED", "KKT_NOT_ENABLED_FOR_FZ54", "FN_NOT_PLUGGED", "NOT_REGISTERED", "REGISTERED"))

REGISTRATION_STATUSES = frozenset((
    "NOT_EXISTS", "DRAFT", "STARTED", "OFD_WAIT_DECL_SIGN", "DECL_SIGNING", "OFD_WAIT_IRUD", "OFD_WAIT_RNM",
    "OFD_WAIT_REPORT", "REPORT_PRINT_REQUESTED", "REPORT_PRINTED", "REPORT_PRINT_ERROR", "OFD_WAIT_REPORT_SIGN",
    "REPORT_SIGNING", "OFD_WAIT_FOR_FINAL_RESPONSE", "REGISTERED", "ERROR"))
# The cabinet offers "delete point" only in these registration states.
DELETABLE_STATUSES = frozenset(("NOT_EXISTS", "DRAFT", "ERROR", "REGISTERED"))

# [0-9], not \d: \d also matches non-ASCII digits such as Arabic-Indic ones.
_INN_RE = re.compile(r"[0-9]{10}|[0-9]{12}")
# Real KPPs may carry letters in positions 5-6 (the reason code), e.g. 7736AB001.
_KPP_RE = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_PHONE_RE = re.compile(r"[0-9]{10}")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def inn_checksum_ok(inn: str) -> bool:
    """The Russian INN check: one check digit for 10 digits (a company), two for 12 (a person)."""
    if len(inn) == 10:
        return _check_digit(inn, _INN10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return (_check_digit(inn, _INN12_WEIGHTS_1) == int(inn[10])
                and _check_digit(inn, _INN12_WEIGHTS_2) == int(inn[11]))
    return False


def canonical_uuid(value) -> str | None:
    """Lower-case 8-4-4-4-12 form of a UUID string, or None if it is not one."""
    if isinstance(value, str) and _UUID_RE.fullmatch(value):
        return value.lower()
    return None


def _empty(value) -> bool:
    return value is None or value == ""


def _sets_legal_identity(patch: dict | None) -> bool:
    """A create (``patch`` None), or an update whose body sets the INN or the KPP."""
    if patch is None:
        return True
    settings = patch.get("settings")
    egais = settings.get("egaisSettings") if isinstance(settings, dict) else None
    return "inn" in patch or (isinstance(egais, dict) and "kpp" in egais)


def _section(value, field: str, problems: list) -> dict:
    """A nested object of the point (``settings``, its ``egaisSettings``): {} when absent or null; anything else that
    is not an object is a ``settings-format`` problem, and its fields are then read as absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append((field, "settings-format"))
        return {}
    return value


def point_problems(point: dict, patch: dict | None = None) -> list[tuple[str, str]]:
    """Problems of ``point`` (a new point, or the merged result of an update whose body was ``patch``)."""
    problems: list[tuple[str, str]] = []

    name = point.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(("name", "name-required"))
    elif len(name) > NAME_MAX:
        problems.append(("name", "name-too-long"))

    address = point.get("address")
    if address is not None and not isinstance(address, str):
        problems.append(("address", "address-format"))

    inn = point.get("inn")
    inn_digits = 0
    if not _empty(inn):
        if not isinstance(inn, str) or not _INN_RE.fullmatch(inn):
            problems.append(("inn", "inn-format"))
        elif not inn_checksum_ok(inn):
            problems.append(("inn", "inn-checksum"))
        else:
            inn_digits = len(inn)

    phone = point.get("phone")
    if not _empty(phone) and (not isinstance(phone, str) or not _PHONE_RE.fullmatch(phone)):
        problems.append(("phone", "phone-format"))

    settings = _section(point.get("settings"), "settings", problems)
    egais = _section(settings.get("egaisSettings"), "settings.egaisSettings", problems)
    kpp = egais.get("kpp")
    if not _empty(kpp):
        if not isinstance(kpp, str) or not _KPP_RE.fullmatch(kpp):
            problems.append(("settings.egaisSettings.kpp", "kpp-format"))
        elif inn_digits == 12:
            # A 12-digit INN is an individual entrepreneur, who has no KPP.
            problems.append(("settings.egaisSettings.kpp", "kpp-not-allowed"))

    tax_mode = settings.get("defaultTaxMode")
    if tax_mode is not None and (not isinstance(tax_mode, str) or tax_mode not in TAX_MODES):
        problems.append(("settings.defaultTaxMode", "tax-mode-invalid"))

    vat_tag = settings.get("defaultVatTag")
    # bool is an int subclass (True must not pass) and 1105.0 == 1105 (a float must not either).
    if vat_tag is not None and (type(vat_tag) is not int or vat_tag not in VAT_TAGS):
        problems.append(("settings.defaultVatTag", "vat-tag-invalid"))

    fiscal = settings.get("fiscalServiceEnabled")
    if fiscal is not None and not isinstance(fiscal, bool):
        problems.append(("settings.fiscalServiceEnabled", "fiscal-service-enabled-format"))

    if inn_digits == 10 and _empty(kpp) and _sets_legal_identity(patch):
        # A 10-digit INN is a legal entity: the cabinet's form requires its KPP. Checked last: a field's own
        # format problem is the more useful first code.
        problems.append(("settings.egaisSettings.kpp", "kpp-required"))

    status = point.get("registrationRequestStatus")
    if status is not None and (not isinstance(status, str) or status not in REGISTRATION_STATUSES):
        problems.append(("registrationRequestStatus", "registration-request-status-invalid"))

    return problems


def token_problem(token) -> str | None:
    """``posLinkToken`` in a request: a non-empty string issues a code, null withdraws it."""
    if token is None:
        return None
    if not isinstance(token, str) or not token.strip() or len(token) > 64:
        return "pos-link-token-format"
    return None
