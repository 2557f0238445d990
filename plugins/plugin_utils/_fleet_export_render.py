# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The YAML text of an exported fleet (``module_utils._fleet_export.export_fleet``): files with comments.

Written by hand rather than by a YAML dumper, because the files are meant for review in git:

* byte-stable: the same data gives the same bytes whatever the PyYAML version or the locale; no timestamp;
* ordered: points by name, registers by serial, keys in ``_fleet_export.ENTRY_KEYS`` order, so a ``git diff`` between two
  exports reads as the change in the cabinet;
* comments beside the values they explain (a dumper cannot write comments);
* every value reads back, through Ansible's loader, as exactly the string the cabinet holds: INN, KPP, phone, ids
  and serials are always double-quoted (docs/fleet.md asks for it), other strings are plain only when nothing in
  YAML 1.1 could read them otherwise (``yes``, ``123``, ``- x``, ``a: b``, ``#1``), and a string holding a Jinja
  marker (``{{``, ``{%``, ``{#``) is tagged ``!unsafe`` so Ansible never templates a point's name.
"""

from __future__ import annotations

import textwrap
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id

POINTS_FILE = "group_vars/all/retail_points.yml"
CABINET_FILE = "group_vars/all/cabinet.yml"
REGISTERS_FILE = "registers.yml"
REGISTERS_VARS_FILE = "group_vars/registers.yml"
# The order the files are listed in the result (and written).
FILES = (POINTS_FILE, CABINET_FILE, REGISTERS_FILE, REGISTERS_VARS_FILE)

# Values that identify something digit by digit: always quoted, so YAML never reads them as numbers.
ALWAYS_QUOTED_KEYS = frozenset(("id", "inn", "kpp", "phone"))

# YAML 1.1 (what Ansible's loader reads) resolves these words, in any case, to booleans or null.
_YAML11_WORDS = frozenset(("y", "yes", "n", "no", "true", "false", "on", "off", "null"))
_JINJA_MARKERS = ("{{", "{%", "{#")

# What the export says beside modulkassa_points_purge: false (docs/fleet.md, "Adopting an existing account").
PURGE_ADVICE = ("Purge is off: a point left out of this list is left alone. Turn it on once the list is the whole "
                "account you manage; it never deletes a point active on a register or under registration, nor one "
                "matching modulkassa_points_purge_exclude (the points other integrations own), and refuses to "
                "delete more than modulkassa_points_purge_max (default 10) in one run: docs/fleet.md, \"Purge guards\".")


def _escaped(char):
    code = ord(char)
    if code <= 0xFF:
        return "\\x%02x" % code
    if code <= 0xFFFF:
        return "\\u%04x" % code
    return "\\U%08x" % code


def quoted(text):
    """A YAML double-quoted scalar; every character that is not printable is escaped (a line break never is)."""
    out = ['"']
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(_escaped(char))
    out.append('"')
    return "".join(out)


def plain_is_safe(text):
    """Whether ``text`` can be written unquoted and reads back as the same string in YAML 1.1 and 1.2.

    Conservative on purpose: a letter first (no indicator, digit, sign or dot: numbers, dates and ``-``/``?``/``:``
    starts), no ``:`` or ``#`` anywhere (mappings and comments), no surrounding spaces, nothing unprintable, and
    not a word YAML 1.1 reads as a boolean or null. Anything else is quoted, which is always correct.
    """
    if not text or not text[0].isalpha() or text != text.strip():
        return False
    if ":" in text or "#" in text or not text.isprintable():
        return False
    return text.lower() not in _YAML11_WORDS


def scalar(value, force_quotes=False):
    """A YAML scalar for an exported value: a boolean, an integer or a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if any(marker in text for marker in _JINJA_MARKERS):
        return "!unsafe " + quoted(text)
    if force_quotes or not plain_is_safe(text):
        return quoted(text)
    return text


def comment_text(text):
    """``text`` made one printable line for a ``#`` comment (a line break inside would end the comment)."""
    return "".join(char if char.isprintable() else _escaped(char) for char in str(text))


# Comment lines are wrapped at this width (indent included), so that the files stay readable in a review and
# within yamllint's default line length; values are never wrapped.
COMMENT_WIDTH = 118


def _comments(lines, indent):
    """``#`` lines at ``indent``; a long one is wrapped at spaces, its continuation lines indented by two more."""
    out = []
    for line in lines:
        text = comment_text(line)
        if len(text) + indent + 2 <= COMMENT_WIDTH:
            out.append("%s# %s" % (" " * indent, text))
            continue
        wrapped = textwrap.wrap(text, width=COMMENT_WIDTH - indent - 2, subsequent_indent="  ",
                                break_long_words=False, break_on_hyphens=False)
        out.extend("%s# %s" % (" " * indent, part) for part in wrapped)
    return out


def url_without_credentials(url):
    """The cabinet URL for a comment: without a user or password it may carry (``https://u:p@host``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(the cabinet URL)"
    netloc = parts.hostname or ""
    if parts.port:
        netloc += ":%d" % parts.port
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _selection_line(selection):
    parts = []
    if selection["inn"]:
        parts.append("INN " + " or ".join(quoted(inn) for inn in selection["inn"]))
    if selection["names"]:
        parts.append("names matching " + " or ".join(quoted(pattern) for pattern in selection["names"]))
    return "Part of the account: %s." % "; ".join(parts) if parts else None


def _plural(count, one, many):
    return "%d %s" % (count, one if count == 1 else many)


def render_points(fleet):
    summary = fleet["summary"]
    lines = ["---"]
    header = [
        "The retail points of the cabinet account as the cabinet holds them, written by modulkassa.pos.export.",
        "Review them before the first audit: docs/fleet.md, \"Adopting an existing account\".",
    ]
    selection = _selection_line(fleet["selection"])
    if selection:
        header.append(selection)
    header.append("%s (of %d in the account): %s keep their id, %s held by no register, %s with values not declared."
                  % (_plural(summary["points"], "point", "points"), summary["account_points"], summary["ids_kept"],
                     len(summary["points_without_register"]),
                     summary["points_with_values_not_declared"]))
    header += [
        "Only what the cabinet holds is declared; an attribute it leaves empty is not managed. A point keeps its id",
        "where the id is not the one the collection derives from the login and the name (or the name does not tell",
        "the point apart): it is then found by id, so renaming it here renames it in the cabinet.",
        "The \"# cabinet:\" lines say what the cabinet reports about the point and what the fleet data cannot",
        "express; they are comments, not data.",
    ]
    lines += _comments(header, 0)
    lines += _comments([PURGE_ADVICE], 0)
    lines.append("modulkassa_points_purge: false")
    if not fleet["points"]:
        lines.append("modulkassa_points: []")
        return "\n".join(lines) + "\n"
    lines.append("modulkassa_points:")
    for item in fleet["points"]:
        for index, (key, value) in enumerate(item["entry"]):
            lead = "  - " if index == 0 else "    "
            lines.append("%s%s: %s" % (lead, key, scalar(value, force_quotes=key in ALWAYS_QUOTED_KEYS)))
        lines += _comments(item["notes"], 4)
    return "\n".join(lines) + "\n"


def render_registers(fleet):
    lines = ["---"]
    lines += _comments([
        "The registers the cabinet shows holding retail points (kkmInfo.serialNumber), written by",
        "modulkassa.pos.export, each named from its serial. The cabinet does not know how to reach a register:",
        "fill in ansible_host for each one (and the SSH user in group_vars/registers.yml), then remove",
        "modulkassa_registers_via there (or set it to ssh). Until then they are audited from the cabinet alone.",
        "A register without SSH (a tablet) belongs in modulkassa_manual_registers instead (docs/fleet.md).",
    ], 0)
    lines += ["all:", "  children:", "    registers:"]
    if not fleet["registers"]:
        lines.append("      hosts: {}")
        return "\n".join(lines) + "\n"
    lines.append("      hosts:")
    for host in fleet["registers"]:
        lines.append("        %s:" % scalar(host["host"]))
        lines.append("          # ansible_host: FILL IN the register's SSH address (the cabinet does not know it)")
        lines.append("          modulkassa_register_serial: %s" % scalar(host["serial"], force_quotes=True))
        lines.append("          modulkassa_register_points:")
        for reference in host["points"]:
            lines.append("            - %s" % scalar(reference, force_quotes=is_point_id(reference)))
        lines += _comments(host["notes"], 10)
    return "\n".join(lines) + "\n"


def render_registers_vars(fleet):
    del fleet  # the same text for every account
    lines = ["---"]
    lines += _comments([
        "Every register host. The cabinet knows neither the SSH user nor where the register agent is: fill them in",
        "(docs/register-agent.md), for example:",
        "  ansible_user: pos",
        "  modulkassa_agent_path: /opt/modulkassa/bin/modulkassa-agent",
    ], 0)
    lines.append("# Audited from the cabinet until you fill in the SSH addresses; then remove this line (or set it to ssh).")
    lines.append("modulkassa_registers_via: cabinet")
    return "\n".join(lines) + "\n"


def render_cabinet(url, login):
    lines = ["---"]
    lines += _comments([
        "Exported from the cabinet account %s at %s." % (login, url_without_credentials(url)),
        "Points without an id in retail_points.yml have the id the collection derives from this login and their",
        "name: keep using this account's login. The password is written nowhere. Left unset, the playbooks read",
        "MODULKASSA_URL, MODULKASSA_LOGIN and MODULKASSA_PASSWORD from the controller's environment; to keep them",
        "here instead, encrypt the password with ansible-vault:",
        "  modulkassa_url: https://my.modulkassa.ru",
        "  modulkassa_login: ops@chain.example",
        "  modulkassa_password: \"{{ vault_modulkassa_password }}\"",
    ], 0)
    lines.append("{}")
    return "\n".join(lines) + "\n"


def render_fleet(fleet, url, login):
    """``{relative path: text}`` of every file of the export, in ``FILES`` order."""
    texts = {
        POINTS_FILE: render_points(fleet),
        CABINET_FILE: render_cabinet(url, login),
        REGISTERS_FILE: render_registers(fleet),
        REGISTERS_VARS_FILE: render_registers_vars(fleet),
    }
    return dict((path, texts[path]) for path in FILES)
