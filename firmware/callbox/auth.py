"""Password hashing shared by the web UI and the serial console.

Format: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``: a per-user random
salt, a slow key derivation (PBKDF2-HMAC-SHA256, 260,000 iterations by
default), a constant-time comparison. There are no default credentials: the
first admin sets a password at first boot.
"""
import hashlib
import hmac
import os
import re
import sqlite3

ITERATIONS = 260000
MIN_LENGTH = 10
MAX_LENGTH = 1024
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


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


def check_username(username):
    """Why a username cannot be used, or None when it can."""
    if not USERNAME_RE.match(username):
        return "username: %r must be 1-32 letters, digits, '_', '.' or '-'" % username
    return None


def check_new_password(username, password, confirm):
    """Why a new password cannot be used, or None when it can (a message naming the rule)."""
    if len(password) < MIN_LENGTH:
        return "password: must be at least %d characters (got %d)" % (MIN_LENGTH, len(password))
    if len(password) > MAX_LENGTH:
        return "password: must be at most %d characters" % MAX_LENGTH
    if password != confirm:
        return "password: the confirmation does not match"
    if password.lower() == username.lower():
        return "password: must not be the username"
    return None


def create_first_admin(db, username, password, iterations=ITERATIONS):
    """Create the first admin in the users table of sqlite connection ``db``, unless an admin
    exists already (the web UI and the console may race at first boot).

    Returns:
        bool: True when this call created it.
    """
    pw_hash = hash_password(password, iterations)
    try:
        cur = db.execute("INSERT INTO users(username, pw_hash, role) SELECT ?, ?, 'admin' "
                         "WHERE NOT EXISTS (SELECT 1 FROM users WHERE role='admin')", (username, pw_hash))
    except sqlite3.IntegrityError:
        return False
    return cur.rowcount == 1
