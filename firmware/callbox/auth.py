"""Password hashing shared by the web UI and the serial console.

Format: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``: a per-user random
salt, a slow key derivation (PBKDF2-HMAC-SHA256, 260,000 iterations by
default), a constant-time comparison. There are no default credentials: the
first admin sets a password at first boot.
"""
import hashlib
import hmac
import os

ITERATIONS = 260000
MIN_LENGTH = 10


def hash_password(password, iterations=ITERATIONS):
    """Hash a password for storage.

    Raises:
        ValueError: the password is shorter than MIN_LENGTH characters.
    """
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise ValueError("password must be at least %d characters" % MIN_LENGTH)
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt.hex(), dk.hex())


def verify_password(password, stored):
    """True if password matches the stored hash (False for any malformed hash)."""
    try:
        algo, iters, salt, want = stored.split("$")
        if algo != "pbkdf2_sha256":
            return False
        dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt), int(iters))
    except (ValueError, AttributeError):
        return False
    return hmac.compare_digest(dk.hex(), want)
