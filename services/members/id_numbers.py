"""Resident identity numbers (居民身份证号码, GB 11643-1999): validation, masking, protection."""
import base64
import hmac
import os
import re
import struct
import time
from datetime import date

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from services.plumbing.clock import today_in_china

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # ISO 7064 MOD 11-2: check character for each remainder


class InvalidIdNumber(ValueError):
    pass


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=False)) % 11]


def _check_birth_date(year: int, month: int, day: int) -> None:
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidIdNumber("the birth date in the number is not a real date") from None
    if born > today_in_china() or year < 1900:
        raise InvalidIdNumber("the birth date in the number is out of range")


def normalise(raw: str) -> str:
    """The 18-character form of a valid number, or InvalidIdNumber saying why.

    Accepts a lower-case 'x' check character, and a legacy 15-digit number (issued before 1999),
    which is widened to 18 characters by inserting the century '19' and computing the check."""
    number = (raw or "").strip().upper()
    if re.fullmatch(r"\d{15}", number):
        _check_birth_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
        first17 = number[:6] + "19" + number[6:]
        return first17 + check_char(first17)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise InvalidIdNumber("must be 18 characters (17 digits and a digit or X), or 15 digits")
    _check_birth_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("check digit does not match")
    return number


def mask(number: str) -> str:
    """Region code and last four shown, birth date hidden: 110101********123X."""
    return number[:6] + "*" * 8 + number[-4:]


def birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


class IdProtector:
    def __init__(self, hash_key: str, encryption_key: str):
        self._keys = (hash_key, encryption_key)
        self._hash_key = hash_key.encode()
        key = encryption_key.encode()
        raw = base64.urlsafe_b64decode(key)
        if len(raw) != 32:
            raise ValueError("ID_ENCRYPTION_KEY must be 32 url-safe base64-encoded bytes")
        self._fernet = Fernet(key)
        self._signing_key, self._aes = raw[:16], algorithms.AES(raw[16:])  # Fernet's halves

    def __reduce__(self):
        # Sent to an import worker process (over a pipe of its own): the keys, not the cipher.
        return IdProtector, self._keys

    def fingerprint(self, number: str) -> str:
        return hmac.digest(self._hash_key, number.encode(), "sha256").hex()

    def encrypt(self, number: str) -> str:
        """A Fernet token of the number (decrypt() is Fernet's own). Built here from the same
        primitives, as the Fernet specification lays it out: an import encrypts 100,000 numbers,
        and Fernet.encrypt's per-call padder and HMAC objects cost as much as the cipher."""
        data = number.encode()
        iv = os.urandom(16)
        padding = 16 - len(data) % 16  # PKCS7
        encryptor = Cipher(self._aes, modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(data + bytes((padding,)) * padding) + encryptor.finalize()
        signed = b"\x80" + struct.pack(">Q", int(time.time())) + iv + ciphertext
        return base64.urlsafe_b64encode(signed + hmac.digest(self._signing_key, signed, "sha256")).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def seal(self, data: bytes) -> bytes:
        """Encrypts other data that holds full numbers (an uploaded file awaiting import)."""
        return self._fernet.encrypt(data)

    def unseal(self, token: bytes) -> bytes:
        return self._fernet.decrypt(token)
