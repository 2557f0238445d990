# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS (issue 6): the emulator serves HTTPS with a certificate from a CA this test makes (``cryptography``).
``validate_certs`` is on by default: an untrusted certificate fails with a clear message and is not retried;
``ca_path`` (a bundle file or a hashed directory) makes it pass; ``validate_certs: false`` passes. A register
whose agent trusts the CA (``caPath`` in agent.json) is bound over HTTPS end to end.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import subprocess
import sys
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import DEMO, by_host, dump, play  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _server_cert(ca_key, ca_cert):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _sandbox(*args):
    return subprocess.run([sys.executable, "-m", "sandbox"] + list(args), cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def tls_cabinet(tmp_path_factory):
    """An HTTPS emulator with a certificate from our CA; the CA as a bundle and as a hashed directory."""
    work = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert = _ca("modulkassa.pos test CA %s" % uuid.uuid4().hex[:6])
    dummy, other_ca = _ca("some other CA")
    server_key, server_cert = _server_cert(ca_key, ca_cert)
    (work / "ca.pem").write_bytes(_pem(ca_cert))
    (work / "other-ca.pem").write_bytes(_pem(other_ca))
    (work / "server.pem").write_bytes(_pem(server_cert))
    (work / "server.key").write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    os.chmod(work / "server.key", 0o600)
    # A directory of hashed certificates, as `openssl rehash` makes them (what ca_path also accepts).
    ca_dir = work / "ca.d"
    ca_dir.mkdir()
    subject_hash = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(work / "ca.pem")],
                                  capture_output=True, text=True, check=True).stdout.strip()
    (ca_dir / ("%s.0" % subject_hash)).write_bytes(_pem(ca_cert))

    data_dir = work / "cabinet"
    started = _sandbox("cabinet", "start", "--data-dir", str(data_dir), "--port", "0",
                       "--tls-cert", str(work / "server.pem"), "--tls-key", str(work / "server.key"))
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip().splitlines()[-1]
    assert url.startswith("https://127.0.0.1:"), url
    try:
        yield {"url": url, "ca": str(work / "ca.pem"), "ca_dir": str(ca_dir), "other_ca": str(work / "other-ca.pem"),
               "work": work, "data_dir": data_dir}
    finally:
        _sandbox("cabinet", "stop", "--data-dir", str(data_dir))


def test_certificates_are_verified_by_default_and_ca_path_trusts_a_private_ca(tls_cabinet, run_playbook):
    # The password comes from the environment: ansible-core prints the playbook lines around a failed task, so
    # a password written into the playbook itself would be shown (docs/security.md).
    env = {"MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1]}
    connection = {"cabinet_url": tls_cabinet["url"]}
    localhost_url = tls_cabinet["url"].replace("127.0.0.1", "localhost")
    tag = "TLS-%s" % uuid.uuid4().hex[:6]

    def info(name, **extra):
        return {"name": name, "modulkassa.pos.retail_point_info": dict(connection, **extra), "ignore_errors": True}

    tasks = [
        info("default"),
        info("other CA", ca_path=tls_cabinet["other_ca"]),
        info("our CA", ca_path=tls_cabinet["ca"]),
        info("our CA as a directory", ca_path=tls_cabinet["ca_dir"]),
        info("by host name", ca_path=tls_cabinet["ca"], cabinet_url=localhost_url),
        info("no verification", validate_certs=False),
        {"name": "converge", "modulkassa.pos.retail_points": dict(connection, ca_path=tls_cabinet["ca"], points=[
            {"name": "%s 1" % tag, "inn": "7707083893", "kpp": "773601001"}, {"name": "%s 2" % tag}])},
        {"name": "converge again", "modulkassa.pos.retail_points": dict(connection, ca_path=tls_cabinet["ca"], points=[
            {"name": "%s 1" % tag, "inn": "7707083893", "kpp": "773601001"}, {"name": "%s 2" % tag}])},
    ]
    run = run_playbook(dump(play(tasks)), env=env)

    for name in ("default", "other CA"):
        result = run.result(name)
        assert result["failed"] is True, result
        msg = result["msg"]
        assert "GET /api/v1/retail-points failed after 1 attempt" in msg, msg  # a bad certificate is not retried
        assert "CERTIFICATE_VERIFY_FAILED" in msg or "certificate verify failed" in msg, msg
        assert "set ca_path" in msg, msg
        assert not result.get("warnings"), "a certificate failure was retried"
    for name in ("our CA", "our CA as a directory", "by host name", "no verification"):
        result = run.result(name)
        assert not result.get("failed"), result
        assert isinstance(result["points"], list)
    assert run.result("converge")["summary"]["create"] == 2
    assert run.result("converge again")["changed"] is False
    assert DEMO[1] not in run.stdout + run.stderr


def test_register_binds_over_https_when_its_agent_trusts_the_ca(tls_cabinet, run_playbook):
    """One register of its own (not the shared ones) talks to the HTTPS cabinet with caPath in its agent.json."""
    data_dir = str(tls_cabinet["work"] / "registers")
    inventory = os.path.join(data_dir, "inventory.yml")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").lstrip("gw") or "0"
    started = _sandbox("registers", "start", "--data-dir", data_dir, "--count", "1", "--cabinet-url", tls_cabinet["url"],
                       "--inventory", inventory, "--base-port", str(23060 + 100 * int(worker)))
    assert started.returncode == 0, started.stderr
    try:
        config_path = os.path.join(data_dir, "registers", "reg01", "home", "agent.json")
        with open(config_path) as handle:
            config = json.load(handle)
        config["caPath"] = tls_cabinet["ca"]
        with open(config_path, "w") as handle:
            json.dump(config, handle)

        name = "TLS register %s" % uuid.uuid4().hex[:6]
        connection = {"cabinet_url": tls_cabinet["url"], "cabinet_login": DEMO[0], "cabinet_password": DEMO[1],
                      "ca_path": tls_cabinet["ca"]}
        playbook = dump(
            play([{"name": "point", "modulkassa.pos.retail_point": dict(connection, name=name)}]),
            play([{"name": "bind", "modulkassa.pos.register": dict(connection, retail_points=[name])}], hosts="reg01"))
        run = run_playbook(playbook, inventory=[inventory, "localhost ansible_connection=local "
                                                           "ansible_python_interpreter={{ ansible_playbook_python }}\n"])
        assert run.rc == 0, run.output_tail()
        bind = by_host(run, "bind")["reg01"]["result"]
        assert bind["changed"] is True and [b["name"] for b in bind["bindings"]] == [name]
    finally:
        _sandbox("registers", "stop", "--data-dir", data_dir)
