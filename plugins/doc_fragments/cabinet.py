# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # Connection options shared by every plugin that talks to the cabinet; these plugins are the members of the
    # modulkassa.pos.cabinet action group (module_defaults: group/modulkassa.pos.cabinet).
    DOCUMENTATION = r"""
attributes:
  action_group:
    description: Action is part of action_group(s), for convenient setting of module_defaults.
    support: N/A
    membership: [modulkassa.pos.cabinet]
options:
  cabinet_url:
    description:
      - Base URL of the ModulKassa cabinet, without the C(/api/v1) part, for example V(https://my.modulkassa.ru).
      - If not set, the E(MODULKASSA_URL) environment variable of the controller is used.
    type: str
    required: true
  cabinet_login:
    description:
      - Login (e-mail) of the cabinet account.
      - If not set, the E(MODULKASSA_LOGIN) environment variable of the controller is used.
      - New point ids are derived from this login and the point name, so keep it stable for one account.
    type: str
    required: true
  cabinet_password:
    description:
      - Password of the cabinet account. It never appears in results, diffs, warnings or error messages.
      - If not set, the E(MODULKASSA_PASSWORD) environment variable of the controller is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the cabinet's TLS certificate. Leave it on; use O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (or a directory of hashed CA certificates) to verify the cabinet's certificate with.
      - If not set, the E(MODULKASSA_CA_PATH) environment variable is used, then the system trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for the cabinet to connect, send or answer, per request.
    type: float
    default: 30
  retries:
    description:
      - How many times a request that is safe to repeat (GET, PUT, DELETE, and the create of a point with a
        client-chosen id) is retried after HTTP 429, HTTP 5xx or a network error, with jittered exponential
        backoff that honours C(Retry-After). Each retry is reported as a warning. V(0) disables retries.
    type: int
    default: 3
notes:
  - The plugin runs on the controller (it is an action plugin); the cabinet is never called from a managed
    host, and no Python library is needed on one. The controller needs the C(httpx) Python library.
  - Set the connection options once for a play with C(module_defaults) and the V(group/modulkassa.pos.cabinet) group.
requirements:
  - httpx >= 0.23 (on the controller)
"""

    # The same connection options for plugins configured through Ansible's config system (the inventory plugin):
    # their environment variables are declared here as sources instead of argspec fallbacks. No ini source for
    # the password on purpose: it belongs in the environment (AWX credentials, CI secrets) or in vault.
    PLUGINS = r"""
options:
  cabinet_url:
    description:
      - Base URL of the ModulKassa cabinet, without the C(/api/v1) part, for example V(https://my.modulkassa.ru).
    type: str
    required: true
    env:
      - name: MODULKASSA_URL
  cabinet_login:
    description:
      - Login (e-mail) of the cabinet account.
    type: str
    required: true
    env:
      - name: MODULKASSA_LOGIN
  cabinet_password:
    description:
      - Password of the cabinet account. It never appears in output, caches or error messages.
      - Prefer the environment variable; in a file, encrypt it with C(ansible-vault encrypt_string).
    type: str
    required: true
    env:
      - name: MODULKASSA_PASSWORD
  validate_certs:
    description:
      - Whether to verify the cabinet's TLS certificate. Leave it on; use O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (or a directory of hashed CA certificates) to verify the cabinet's certificate with.
    type: path
    env:
      - name: MODULKASSA_CA_PATH
  timeout:
    description:
      - Seconds to wait for the cabinet to connect, send or answer, per request.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after HTTP 429, HTTP 5xx or a network error, with jittered
        exponential backoff that honours C(Retry-After). Each retry is reported as a warning.
    type: int
    default: 3
requirements:
  - httpx >= 0.23 (on the controller)
"""

    # The attributes of a retail point, as the cabinet's point form has them.
    POINT_ATTRIBUTES = r"""
options:
  address:
    description:
      - Address of the point as printed on receipts (the cabinet's C(address)).
    type: str
  phone:
    description:
      - Phone of the point. Written in any common form (V(+7 912 345-67-89), V(89123456789)); stored and
        compared as the cabinet's 10 digits.
    type: str
  inn:
    description:
      - INN of the legal entity (10 digits) or of the individual entrepreneur (12 digits), with a valid checksum.
      - Quote it in YAML so leading zeros are kept.
    type: str
  kpp:
    description:
      - KPP, 9 characters (C(settings.egaisSettings.kpp)). Must be empty when O(inn) has 12 digits.
      - Required to create a point whose O(inn) has 10 digits (a legal entity), and to change such a point's INN or
        KPP; the plugin refuses it before any write. A point the cabinet holds without a KPP is left as it is while
        neither O(inn) nor O(kpp) changes.
    type: str
  tax_mode:
    description:
      - Default taxation mode of the point's receipts (C(settings.defaultTaxMode)) - V(COMMON) ОСН, V(SIMPLIFIED)
        УСН on income, V(SIMPLIFIED_WITH_EXPENSE) УСН on income less expenses, V(COMMON_AGRICULTURAL) ЕСХН,
        V(PATENT) ПСН.
      - V(ENVD) (ЕНВД) was abolished on 1 January 2021. It is refused for a new point and as a change of a point's
        mode; a point the cabinet still holds in it is left as it is and reported with a warning (and in
        C(notices)).
    type: str
    choices: [COMMON, SIMPLIFIED, SIMPLIFIED_WITH_EXPENSE, COMMON_AGRICULTURAL, PATENT, ENVD]
  vat:
    description:
      - Default VAT rate by name - V(VAT_22) 22% (the standard rate since 2026), V(VAT_22_122) 22/122,
        V(VAT_20) 20%, V(VAT_20_120) 20/120, V(VAT_10) 10%, V(VAT_10_110) 10/110, V(VAT_7) 7%, V(VAT_7_107) 7/107,
        V(VAT_5) 5%, V(VAT_5_105) 5/105 (the simplified-tax rates since 2025), V(VAT_0) 0%, V(NO_VAT) no VAT.
      - The same setting as O(vat_tag), which gives the cabinet's number instead; give one of them. A point whose
        cabinet number is that of the named rate is unchanged. The numbers and their public sources are listed in
        the collection's C(docs/fleet.md) ("Tax data").
    type: str
    choices: [VAT_22, VAT_22_122, VAT_20, VAT_20_120, VAT_10, VAT_10_110, VAT_7, VAT_7_107, VAT_5, VAT_5_105, VAT_0,
              NO_VAT]
  vat_tag:
    description:
      - Default VAT rate as the cabinet's number (C(settings.defaultVatTag)) - V(1102) 20%, V(1103) 10%, V(1104) 0%,
        V(1105) no VAT, V(1106) 20/120, V(1107) 10/110, V(1109) 5%, V(1110) 7%, V(1111) 5/105, V(1112) 7/107,
        V(1113) 22%, V(1114) 22/122.
      - Prefer O(vat), which names the rate. Give one of O(vat) and O(vat_tag).
    type: int
    choices: [1102, 1103, 1104, 1105, 1106, 1107, 1109, 1110, 1111, 1112, 1113, 1114]
  fiscal_service_enabled:
    description:
      - Whether the point prints documents of an online store (C(settings.fiscalServiceEnabled)).
    type: bool
"""
