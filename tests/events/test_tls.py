"""The https path for real: a TLS receiver on 127.0.0.1 with a certificate for `receiver.test` from a CA of
the test's own. The delivery connects to the checked address, sends the name as SNI and Host, and verifies
the certificate against that name (a certificate for another name is refused)."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from events import delivery as deliveries
from events.models import Delivery, DeliveryStatus
from events.services import record

pytestmark = pytest.mark.django_db


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_certificates(tmp_path, host: str):
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("UniPulse test CA")).issuer_name(_name("UniPulse test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path):
    def start(certified_for: str):
        ca_file, cert_file, key_file = make_certificates(tmp_path, certified_for)
        seen: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                seen.append({"host": self.headers["Host"], "sni": self.connection.server_hostname_seen, "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)

        def remember_sni(sock, server_name, _context):
            sock.server_hostname_seen = server_name

        context.sni_callback = remember_sni
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1], ca_file, seen

    servers: list = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def deliver_to(workspace, endpoint_factory, url):
    endpoint = endpoint_factory(url=url)
    record(workspace.pk, "analytics.synced", {"object": {"n": 1}})
    return deliveries.attempt(Delivery.objects.get(endpoint=endpoint).pk)


def test_https_goes_to_the_checked_address_with_the_name_as_sni_and_host(workspace, endpoint_factory, tls_receiver,
                                                                        settings, monkeypatch):
    port, ca_file, seen = tls_receiver("receiver.test")
    settings.WEBHOOK_CA_BUNDLE, settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = str(ca_file), True
    monkeypatch.setattr("events.urlsafety.resolve", lambda host, port: ["127.0.0.1"])

    done = deliver_to(workspace, endpoint_factory, f"https://receiver.test:{port}/in")

    assert done.status == DeliveryStatus.DELIVERED and done.last_status_code == 204
    [request] = seen
    assert (request["sni"], request["host"]) == ("receiver.test", f"receiver.test:{port}")


def test_a_certificate_for_another_name_is_refused(workspace, endpoint_factory, tls_receiver, settings, monkeypatch):
    port, ca_file, seen = tls_receiver("someone-else.test")
    settings.WEBHOOK_CA_BUNDLE, settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = str(ca_file), True
    monkeypatch.setattr("events.urlsafety.resolve", lambda host, port: ["127.0.0.1"])

    done = deliver_to(workspace, endpoint_factory, f"https://receiver.test:{port}/in")

    assert done.status == DeliveryStatus.PENDING and seen == []
    assert "SSLError" in done.last_error and "receiver.test" in done.last_error
