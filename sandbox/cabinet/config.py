"""Emulator configuration: accounts and knobs, kept in ``<data-dir>/config.json``.

File format (every key optional)::

    {"accounts": [{"login": "a@example.com", "password": "secret"}, ...],
     "knobs": {"latency_ms": 20, "p_429": 0.1, ...}}

``accounts`` may also be a ``{"login": "password"}`` mapping. The default accounts are always present;
a config file adds accounts or changes a default account's password. Logins match case-insensitively
(they are e-mail addresses) and are stored lower-cased.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.cabinet.knobs import DEFAULT_KNOBS, KnobError, merge_knobs

DEFAULT_ACCOUNTS = {
    "demo@example.com": "demo-password-1",
    "other@example.com": "other-password-2",
}

CONFIG_NAME = "config.json"


class ConfigError(ValueError):
    pass


@dataclass
class EmulatorConfig:
    accounts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    knobs: dict = field(default_factory=lambda: dict(DEFAULT_KNOBS))

    def to_json(self) -> dict:
        return {"accounts": [{"login": login, "password": password} for login, password in self.accounts.items()],
                "knobs": self.knobs}


def _parse_accounts(raw) -> dict[str, str]:
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = []
        for entry in raw:
            if not isinstance(entry, dict):
                raise ConfigError("accounts: each entry must be an object with login and password")
            pairs.append((entry.get("login"), entry.get("password")))
    else:
        raise ConfigError("accounts must be a list of {login, password} or a {login: password} mapping")
    accounts = {}
    for login, password in pairs:
        if not isinstance(login, str) or not login or ":" in login:
            raise ConfigError("accounts: login %r must be a non-empty string without ':'" % (login,))
        if not isinstance(password, str) or not password:
            raise ConfigError("accounts: %s needs a non-empty password" % login)
        accounts[login.strip().lower()] = password
    return accounts


def parse_config(raw) -> EmulatorConfig:
    if not isinstance(raw, dict):
        raise ConfigError("the config must be a JSON object")
    unknown = set(raw) - {"accounts", "knobs"}
    if unknown:
        raise ConfigError("unknown config keys: %s" % ", ".join(sorted(unknown)))
    config = EmulatorConfig()
    if "accounts" in raw:
        config.accounts.update(_parse_accounts(raw["accounts"]))
    if "knobs" in raw:
        try:
            config.knobs = merge_knobs(config.knobs, raw["knobs"])
        except KnobError as exc:
            raise ConfigError("knobs: %s" % exc) from exc
    return config


def read_config_file(path: Path) -> EmulatorConfig:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("cannot read %s: %s" % (path, exc)) from exc
    except ValueError as exc:
        raise ConfigError("%s is not valid JSON: %s" % (path, exc)) from exc
    return parse_config(raw)


def prepare_config(data_dir: Path, config_file: Path | None) -> EmulatorConfig:
    """The config for this run; writes ``config.json`` from ``--config`` or from the defaults.

    ``--config`` replaces the stored file (so a changed file takes effect on the next start);
    without it the stored file is used, or the defaults on first start.
    """
    stored = Path(data_dir) / CONFIG_NAME
    if config_file is not None:
        config = read_config_file(config_file)
    elif stored.exists():
        return read_config_file(stored)
    else:
        config = EmulatorConfig()
    tmp = stored.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config.to_json(), indent=2) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)  # it holds passwords
    os.replace(tmp, stored)
    return config
