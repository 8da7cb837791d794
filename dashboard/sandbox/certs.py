"""Just enough X.509 for the emulator: when a PEM certificate expires, and demo certificates.

The private-connection operations answer `certificateExpiryTime` from the certificate they
were given, as the service does. Reading it takes a walk of three DER levels (Certificate →
TBSCertificate → Validity), so no crypto library is needed; nothing here checks signatures.
`demo_pem` builds a structurally valid certificate (unsigned: random signature bytes) for the
seed and the tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import random

import regex

_PEM = regex.compile(
    r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----"
)
_PRIVATE = regex.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")

SEQUENCE = 0x30
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18


class CertificateError(ValueError):
    """The text is not a PEM certificate this emulator can read."""


def has_private_key(text: str) -> bool:
    return bool(_PRIVATE.search(text))


def _element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`."""
    if pos + 2 > len(data):
        raise CertificateError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise CertificateError("truncated DER")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, content, stop = _element(data, pos)
        out.append((tag, content, stop))
        pos = stop
    return out


def _time(tag: int, text: str) -> dt.datetime:
    try:
        if tag == UTC_TIME:
            parsed = dt.datetime.strptime(text, "%y%m%d%H%M%SZ")
        elif tag == GENERALIZED_TIME:
            parsed = dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise CertificateError("the validity is not a time")
    except ValueError:
        raise CertificateError(f"unreadable time {text!r}") from None
    return parsed.replace(tzinfo=dt.UTC)


def not_after(der: bytes) -> dt.datetime:
    """When the DER certificate stops being valid."""
    tag, start, end = _element(der, 0)
    if tag != SEQUENCE:
        raise CertificateError("not a certificate")
    parts = _children(der, start, end)
    if not parts or parts[0][0] != SEQUENCE:
        raise CertificateError("no TBSCertificate")
    tbs = _children(der, parts[0][1], parts[0][2])
    if tbs and tbs[0][0] == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    # serialNumber, signature, issuer, validity
    if len(tbs) < 4 or tbs[3][0] != SEQUENCE:
        raise CertificateError("no validity")
    validity = _children(der, tbs[3][1], tbs[3][2])
    if len(validity) != 2:
        raise CertificateError("bad validity")
    tag, start, end = validity[1]
    return _time(tag, der[start:end].decode("ascii", "replace"))


def pem_blocks(text: str) -> list[bytes]:
    """The DER of each certificate in a PEM text (a chain has several)."""
    out = []
    for match in _PEM.finditer(text):
        try:
            out.append(base64.b64decode(regex.sub(r"\s+", "", match.group(1)), validate=True))
        except ValueError:
            raise CertificateError("the certificate's base64 is damaged") from None
    return out


def expiry(text: str) -> dt.datetime:
    """When the PEM text's certificate (the earliest of a chain) expires."""
    blocks = pem_blocks(text)
    if not blocks:
        raise CertificateError("no PEM certificate (-----BEGIN CERTIFICATE-----) found")
    return min(not_after(block) for block in blocks)


# --- building demo certificates -------------------------------------------------------------


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        head = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + content


def _oid(dotted: str) -> bytes:
    numbers = [int(n) for n in dotted.split(".")]
    body = bytes([40 * numbers[0] + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, body)


def _name(common_name: str) -> bytes:
    attribute = _der(SEQUENCE, _oid("2.5.4.3") + _der(0x0C, common_name.encode()))
    return _der(SEQUENCE, _der(0x31, attribute))


def _when(moment: dt.datetime) -> bytes:
    moment = moment.astimezone(dt.UTC)
    if 1950 <= moment.year < 2050:
        return _der(UTC_TIME, moment.strftime("%y%m%d%H%M%SZ").encode())
    return _der(GENERALIZED_TIME, moment.strftime("%Y%m%d%H%M%SZ").encode())


def demo_pem(common_name: str, not_before: dt.datetime, expires: dt.datetime) -> str:
    """A PEM certificate for `common_name` valid from `not_before` to `expires` (unsigned)."""
    rng = random.Random(f"{common_name}:{expires.isoformat()}")
    algorithm = _der(SEQUENCE, _oid("1.2.840.113549.1.1.11") + _der(0x05, b""))
    key = _der(
        SEQUENCE,
        _der(SEQUENCE, _oid("1.2.840.113549.1.1.1") + _der(0x05, b""))
        + _der(0x03, b"\x00" + rng.randbytes(140)),
    )
    tbs = _der(
        SEQUENCE,
        _der(0xA0, _der(0x02, b"\x02"))
        + _der(0x02, b"\x01" + rng.randbytes(15))
        + algorithm
        + _name("Sandbox Demo CA")
        + _der(SEQUENCE, _when(not_before) + _when(expires))
        + _name(common_name)
        + key,
    )
    der = _der(SEQUENCE, tbs + algorithm + _der(0x03, b"\x00" + rng.randbytes(256)))
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
