"""Generate the TEST ONLY CSCA → DS chain and chip keys of ``assets/test-keys`` (run once).

    .venv/bin/python -m devices.cardsim.make_test_pki

The private keys are published in the repository on purpose: anything they sign is a forgery
by construction, and a production kiosk must never trust this CSCA (see the README there).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.settings.paths import assets_dir

WARNING = "NE PAS UTILISER"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "point-numérique TEST"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def main(out: Path | None = None) -> None:
    """Write csca.pem, ds.pem, their keys and the chip keys into ``out``."""
    out = out or assets_dir() / "test-keys"
    out.mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    csca_key = ec.generate_private_key(ec.SECP256R1())
    csca_name = _name(f"CSCA TEST point-numérique — {WARNING}")
    csca = (
        x509.CertificateBuilder()
        .subject_name(csca_name)
        .issuer_name(csca_name)
        .public_key(csca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(csca_key, hashes.SHA256())
    )
    ds_key = ec.generate_private_key(ec.SECP256R1())
    ds = (
        x509.CertificateBuilder()
        .subject_name(_name(f"DS TEST point-numérique — {WARNING}"))
        .issuer_name(csca_name)
        .public_key(ds_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=15 * 365))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(csca_key, hashes.SHA256())
    )
    (out / "csca.pem").write_bytes(csca.public_bytes(serialization.Encoding.PEM))
    (out / "csca.key.pem").write_bytes(_key_pem(csca_key))
    (out / "ds.pem").write_bytes(ds.public_bytes(serialization.Encoding.PEM))
    (out / "ds.key.pem").write_bytes(_key_pem(ds_key))
    # The CNIe's Chip Authentication key, on the card's own curve.
    chip = ec.generate_private_key(ec.BrainpoolP256R1())
    (out / "chip-ca-cnie.key.pem").write_bytes(_key_pem(chip))


if __name__ == "__main__":
    main()
