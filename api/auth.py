"""API keys: random tokens, stored only as SHA-256 hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from kb.errors import Forbidden, Unauthorized
from kb.settings import Settings
from kb.store import Store

KEY_PREFIX = "ukb_"


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a plain SHA-256 (no slow KDF) cannot be brute-forced.
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(store: Store, name: str) -> tuple[int, str]:
    """A new key: the plain text is returned once and never stored."""
    key = new_key()
    return store.add_key(name, hash_key(key)), key


class KeyChecker:
    """Accepts keys from settings (`KB_API_KEYS`) and active keys created with `kb keys create`."""

    def __init__(self, settings: Settings, store: Store):
        self._configured = [hash_key(k) for k in settings.api_key_list()]
        self._store = store

    def check(self, presented: str | None) -> str:
        """The name of the key's holder (recorded in the tag audit trail), or an error."""
        if not presented:
            raise Unauthorized("this endpoint needs an API key (header X-API-Key or Authorization: Bearer)")
        digest = hash_key(presented)
        holder = None
        known = [(f"KB_API_KEYS #{n}", h) for n, h in enumerate(self._configured, 1)] + self._store.active_keys()
        for name, key_hash in known:
            if hmac.compare_digest(digest, key_hash):  # no early exit: timing says nothing
                holder = holder or name
        if holder is None:
            raise Forbidden("API key not valid (unknown or revoked)")
        return holder
