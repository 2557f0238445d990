# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # Connection options shared by every plugin that talks to the cabinet.
    DOCUMENTATION = r"""
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
      - Default taxation mode of the point's receipts (C(settings.defaultTaxMode)).
    type: str
    choices: [COMMON, SIMPLIFIED, SIMPLIFIED_WITH_EXPENSE, ENVD, COMMON_AGRICULTURAL, PATENT]
  vat_tag:
    description:
      - Default VAT tag (C(settings.defaultVatTag)) - V(1102) 20%, V(1103) 10%, V(1104) 0%, V(1105) no VAT,
        V(1106) 20/120, V(1107) 10/110.
    type: int
    choices: [1102, 1103, 1104, 1105, 1106, 1107]
  fiscal_service_enabled:
    description:
      - Whether the point prints documents of an online store (C(settings.fiscalServiceEnabled)).
    type: bool
"""
