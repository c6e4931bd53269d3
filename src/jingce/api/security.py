"""Accounts: password hashing (argon2), signed session and bearer tokens, CSRF, login rate limits.

Tokens are ``<payload>.<signature>``: the payload (user id, user name, expiry, a nonce) signed
with HMAC-SHA256 under the settings' secret key; nothing secret is stored server-side. Web
sessions carry the token in an HttpOnly cookie and, for state-changing requests, need the CSRF
token derived from it (header ``X-CSRF-Token`` or form field ``csrf``); API clients send it as
``Authorization: Bearer``. No secret has a default outside demo mode.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jingce.api.errors import TooManyRequestsError
from jingce.errors import AuthenticationError, InvalidInputError
from jingce.settings import Settings

DEMO_SECRET = "jingce-demo-secret-do-not-use-in-production"
SESSION_COOKIE = "jingce_session"
_hasher = PasswordHasher()


def secret_key(settings: Settings) -> bytes:
    """The signing key; refuses to run without one outside demo mode."""
    if settings.secret_key:
        if settings.secret_key == DEMO_SECRET and not settings.demo:
            raise InvalidInputError("the demo secret may not be used outside demo mode", field="JINGCE_SECRET_KEY")
        if len(settings.secret_key) < 32:
            raise InvalidInputError("must be at least 32 characters", field="JINGCE_SECRET_KEY")
        return settings.secret_key.encode()
    if settings.demo:
        return DEMO_SECRET.encode()
    raise InvalidInputError("is required outside demo mode (set a random string of 32+ characters)",
                            field="JINGCE_SECRET_KEY")


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise InvalidInputError("must be at least 8 characters", field="password")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        _hasher.hash(password)  # same cost whether or not the user exists
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def issue_token(key: bytes, user_id: int, username: str, ttl_s: int) -> str:
    payload = f"{user_id}|{username}|{int(time.time()) + ttl_s}|{secrets.token_hex(8)}".encode()
    sig = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(sig)}"


def read_token(key: bytes, token: str) -> tuple[int, str]:
    """The (user id, user name) of a valid, unexpired token, or :class:`AuthenticationError`."""
    try:
        p, s = token.split(".", 1)
        payload, sig = _unb64(p), _unb64(s)
        if not hmac.compare_digest(sig, hmac.new(key, payload, hashlib.sha256).digest()):
            raise ValueError
        uid, name, exp, _nonce = payload.decode().split("|")
        if int(exp) < time.time():
            raise AuthenticationError("the session has expired; log in again", field="token")
        return int(uid), name
    except (ValueError, UnicodeDecodeError, TypeError):
        raise AuthenticationError("invalid token", field="token") from None


def csrf_token(key: bytes, session_token: str) -> str:
    return hmac.new(key, b"csrf|" + session_token.encode(), hashlib.sha256).hexdigest()


class LoginLimiter:
    """At most ``attempts`` failed logins per user name and per client address in ``window`` s."""

    def __init__(self, attempts: int = 5, window: float = 300.0):
        self.attempts, self.window = attempts, window
        self._fails: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque:
        q = self._fails[key]
        now = time.monotonic()
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def check(self, username: str, client: str) -> None:
        with self._lock:
            if any(len(self._recent(k)) >= self.attempts for k in (f"u:{username}", f"c:{client}")):
                raise TooManyRequestsError("too many failed logins; wait a few minutes", field="username")

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            for k in (f"u:{username}", f"c:{client}"):
                self._recent(k).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(f"u:{username}", None)
