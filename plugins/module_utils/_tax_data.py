# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tax data of a retail point: the VAT rates and the taxation modes the cabinet knows, one table each.

Every row names the public source of the cabinet's value. This is the one copy in the collection: the point model,
the argument specs, the fleet schema and the docs (``docs/fleet.md``, "Tax data") are built from it or checked
against it. The sandbox emulator keeps its own copy (``sandbox/cabinet/validation.py``), because it must not import
the collection.

VAT (``settings.defaultVatTag``). The cabinet stores the point's default VAT rate as a number ("tag"). 1102-1107 are
the numbers of the ФФД requisites that carry a receipt's total per rate (1102 is "сумма НДС чека по ставке 20%"),
which the vendor reused as codes. The rates introduced since 2025 got numbers from 1109 on in the vendor's own
list; those are not ФФД requisites (in the ФФД, 1109 is "признак расчетов за услуги" and 1110 "признак АС БСО"),
and the ФФД itself gave the new rates values of the "ставка НДС" requisite 1199 instead (11 for 22 %, 12 for 22/122,
ФНС order ЕД-7-20/1050@ of 2025-12-08). So the cabinet's numbers can only come from the vendor. The vendor's public
sources:

* the fiscalisation API document (github.com/modulkassa/backend-api, branch gh-pages, ``fn/index.html``, 2020):
  ``vatTag`` 1102 20 %, 1103 10 %, 1104 0 %, 1105 без НДС, 1106 20/120, 1107 10/110;
* the register SDK (github.com/modulkassa/android-integration-sdk,
  ``integration-library/src/main/java/ru/modulkassa/pos/integration/entity/check/VatTag.kt``): the same six, plus
  1109-1112 (5 %, 7 %, 5/105, 7/107; commit 5a79155 of 2025-01-29, "Поддержка новых ставок НДС: 5-7%: Заказы, SDK,
  УФ") and 1113-1114 (22 %, 22/122; commit 36428fc of 2025-12-19, "Поддержка новых ставок НДС (22%)").

That the point's ``settings.defaultVatTag`` takes the same numbers as a receipt line's ``vatTag`` is read from the
cabinet's web app, whose retail-point form offers the goods' VAT list (``VAT_TAG_OPTIONS``) for it (a public copy of
the 2017-2018 my.modulkassa.ru front end). No public client was found that sends 1109-1114 as ``defaultVatTag``.

A rate whose row has no tag is not yet supported: the model refuses it, with the row's ``note`` as the reason,
instead of sending a number nobody has published.
"""

from __future__ import annotations

_FN_API = "github.com/modulkassa/backend-api (gh-pages) fn/index.html, vatTag"
_SDK_VAT_TAG = ("github.com/modulkassa/android-integration-sdk integration-library/src/main/java/ru/modulkassa/pos/"
                "integration/entity/check/VatTag.kt")
_SDK_TAXATION_MODE = ("github.com/modulkassa/android-integration-sdk integration-library/src/main/java/ru/modulkassa/"
                      "pos/integration/entity/check/TaxationMode.kt")
_FN_API_TAX_MODE = "github.com/modulkassa/backend-api (gh-pages) fn/index.html, taxMode"

# name: the fleet data's and the modules' name of the rate (option "vat"); tag: the cabinet's settings.defaultVatTag,
# or None when no public source gives it; rate: what it is; source: where the tag is published, and what it says.
VAT_RATES = (
    {"name": "VAT_22", "tag": 1113, "rate": "22 %", "note": "the standard rate since 1 January 2026",
     "source": _SDK_VAT_TAG + ": TAG_1113, \"1113 – НДС 22%\" (added 2025-12-19)"},
    {"name": "VAT_22_122", "tag": 1114, "rate": "22/122 (calculated)", "note": "since 1 January 2026",
     "source": _SDK_VAT_TAG + ": TAG_1114, \"1114 – НДС с рассч. ставкой 22/122\" (added 2025-12-19)"},
    {"name": "VAT_20", "tag": 1102, "rate": "20 %", "note": "the standard rate until 31 December 2025",
     "source": _FN_API + " \"1102 - 20%\"; " + _SDK_VAT_TAG + ": \"1102 – НДС 20%\""},
    {"name": "VAT_20_120", "tag": 1106, "rate": "20/120 (calculated)", "note": "until 31 December 2025",
     "source": _FN_API + " \"1106 - 20/120\"; " + _SDK_VAT_TAG + ": \"1106 – НДС с рассч. ставкой 20/120\""},
    {"name": "VAT_10", "tag": 1103, "rate": "10 %", "note": "reduced rate",
     "source": _FN_API + " \"1103 - 10%\"; " + _SDK_VAT_TAG + ": \"1103 – НДС 10%\""},
    {"name": "VAT_10_110", "tag": 1107, "rate": "10/110 (calculated)", "note": "reduced rate",
     "source": _FN_API + " \"1107 - 10/110\"; " + _SDK_VAT_TAG + ": \"1107 – НДС с рассч. ставкой 10/110\""},
    {"name": "VAT_7", "tag": 1110, "rate": "7 %", "note": "simplified tax (УСН) payers, since 2025",
     "source": _SDK_VAT_TAG + ": TAG_1110, \"1110 – НДС 7%\" (added 2025-01-29)"},
    {"name": "VAT_7_107", "tag": 1112, "rate": "7/107 (calculated)", "note": "simplified tax (УСН) payers, since 2025",
     "source": _SDK_VAT_TAG + ": TAG_1112, \"1112 – НДС с рассч. ставкой 7/107\" (added 2025-01-29)"},
    {"name": "VAT_5", "tag": 1109, "rate": "5 %", "note": "simplified tax (УСН) payers, since 2025",
     "source": _SDK_VAT_TAG + ": TAG_1109, \"1109 – НДС с 5%\" (added 2025-01-29)"},
    {"name": "VAT_5_105", "tag": 1111, "rate": "5/105 (calculated)", "note": "simplified tax (УСН) payers, since 2025",
     "source": _SDK_VAT_TAG + ": TAG_1111, \"1111 – НДС с рассч. ставкой 5/105\" (added 2025-01-29)"},
    {"name": "VAT_0", "tag": 1104, "rate": "0 %", "note": "exports and other zero-rated sales",
     "source": _FN_API + " \"1104 - 0%\"; " + _SDK_VAT_TAG + ": \"1104 – НДС 0%\""},
    {"name": "NO_VAT", "tag": 1105, "rate": "без НДС (not subject to VAT)",
     "note": "payers exempt from VAT (most УСН payers under the income limit, ПСН)",
     "source": _FN_API + " \"1105 - Без НДС\"; " + _SDK_VAT_TAG + ": \"1105 – НДС не облагается\""},
)

# mode: settings.defaultTaxMode; abolished: why the collection refuses it for a new point (None: in force).
TAX_MODES_TABLE = (
    {"mode": "COMMON", "name": "ОСН (general regime)", "abolished": None,
     "source": _FN_API_TAX_MODE + " \"COMMON - ОСН\"; " + _SDK_TAXATION_MODE},
    {"mode": "SIMPLIFIED", "name": "УСН доходы (simplified, on income)", "abolished": None,
     "source": _FN_API_TAX_MODE + " \"SIMPLIFIED - УСН-Д\"; " + _SDK_TAXATION_MODE},
    {"mode": "SIMPLIFIED_WITH_EXPENSE", "name": "УСН доходы минус расходы (simplified, on income less expenses)",
     "abolished": None, "source": _FN_API_TAX_MODE + " \"SIMPLIFIED_WITH_EXPENSE - УСН-ДР\"; " + _SDK_TAXATION_MODE},
    {"mode": "COMMON_AGRICULTURAL", "name": "ЕСХН (unified agricultural tax)", "abolished": None,
     "source": _FN_API_TAX_MODE + " \"COMMON_AGRICULTURAL - ЕСХН\"; " + _SDK_TAXATION_MODE},
    {"mode": "PATENT", "name": "ПСН (patent)", "abolished": None,
     "source": _FN_API_TAX_MODE + " \"PATENT - ПСН\"; " + _SDK_TAXATION_MODE},
    {"mode": "ENVD", "name": "ЕНВД (imputed income tax)",
     "abolished": "ЕНВД (ENVD) was abolished on 1 January 2021 (Federal Law 97-FZ of 29.06.2012, art. 5 part 8)",
     "source": _FN_API_TAX_MODE + " \"ENVD - ЕНВД\" (2020); removed from " + _SDK_TAXATION_MODE
     + " on 2025-09-09 (commit 0e02d61)"},
)

VAT_NAMES = tuple(row["name"] for row in VAT_RATES)
SUPPORTED_VAT_TAGS = tuple(sorted(row["tag"] for row in VAT_RATES if row["tag"] is not None))
TAX_MODES = tuple(row["mode"] for row in TAX_MODES_TABLE)
ABOLISHED_TAX_MODES = dict((row["mode"], row["abolished"]) for row in TAX_MODES_TABLE if row["abolished"])

_BY_NAME = dict((row["name"], row) for row in VAT_RATES)
_BY_TAG = dict((row["tag"], row) for row in VAT_RATES if row["tag"] is not None)


class UnsupportedRate(ValueError):
    """A VAT rate the table knows but cannot send: no public source gives the cabinet's number for it."""


def vat_tag_for(name):
    """The cabinet's tag for a rate name; ``None`` for an unknown name; ``UnsupportedRate`` for a known one without."""
    row = _BY_NAME.get(name)
    if row is None:
        return None
    if row["tag"] is None:
        raise UnsupportedRate("%s (%s) is not yet supported: %s" % (name, row["rate"], row["note"]))
    return row["tag"]


def vat_name_for(tag):
    """The rate name of a cabinet tag, or ``None`` for a number the table does not know."""
    row = _BY_TAG.get(tag)
    return row["name"] if row else None
