"""Access tokens (PASETO v4.public, Ed25519, via pyseto), keyed hashes of
sign-in codes and signed pagination cursors, all derived from the one
`TALLY_TOKEN_KEY` seed exactly as Tally derives them."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime

import pyseto
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "tally"
MAC_LEN = 16
# Verified tokens kept per worker, as Tally keeps 4,096 (`quick_cache`).
VERIFIED_CAPACITY = 4096


class InvalidToken(Exception):
    pass


class Tokens:
    def __init__(self, seed: bytes, ttl: int):
        private = Ed25519PrivateKey.from_private_bytes(seed)
        secret_pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._secret = pyseto.Key.new(version=4, purpose="public", key=secret_pem)
        self._public = pyseto.Key.new(version=4, purpose="public", key=public_pem)
        self._paseto = pyseto.Paseto.new(exp=ttl, include_iat=True)
        self.ttl = ttl
        # SHA-256 of a verified token -> (user, expiry as a Unix time). A
        # dict keeps insertion order, so the first key is the oldest.
        self._verified: dict[bytes, tuple[uuid.UUID, float]] = {}
        self._code_key = hmac.new(seed, b"tally sign-in code hash v1", hashlib.sha256).digest()

    def issue(self, user_id: uuid.UUID) -> str:
        token = self._paseto.encode(self._secret, {"iss": ISSUER, "sub": str(user_id)}, serializer=json)
        return token.decode()

    def verify(self, token: str) -> uuid.UUID:
        """The user a genuine, unexpired token names (pyseto checks `exp`).
        A token verified before is found by its hash and checked against its
        expiry alone, as Tally does: Ed25519 is the costly part."""
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._verified.get(digest)
        if hit is not None:
            if time.time() < hit[1]:
                return hit[0]
            self._verified.pop(digest, None)
        try:
            claims = self._paseto.decode(self._public, token, deserializer=json).payload
            if claims.get("iss") != ISSUER or "exp" not in claims:
                raise InvalidToken
            user = uuid.UUID(claims["sub"])
            expires = datetime.fromisoformat(claims["exp"]).timestamp()
        except Exception as e:
            raise InvalidToken from e
        if len(self._verified) >= VERIFIED_CAPACITY:
            self._verified.pop(next(iter(self._verified)))
        self._verified[digest] = (user, expires)
        return user

    def hash_code(self, code_id: uuid.UUID, code: str) -> bytes:
        return hmac.new(self._code_key, code_id.bytes + code.encode(), hashlib.sha256).digest()

    def code_matches(self, code_id: uuid.UUID, code: str, stored: bytes) -> bool:
        return hmac.compare_digest(self.hash_code(code_id, code), bytes(stored))


class BadCursor(Exception):
    pass


class Cursors:
    """`base64url(payload || HMAC(scope, payload)[:16])`: bound to the list
    (path and filters) it was issued for."""

    def __init__(self, seed: bytes):
        self._key = hmac.new(seed, b"tally cursor key v1", hashlib.sha256).digest()

    def _tag(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:MAC_LEN]

    def encode(self, scope: str, payload: bytes) -> str:
        return base64.urlsafe_b64encode(payload + self._tag(scope, payload)).rstrip(b"=").decode()

    def decode(self, scope: str, cursor: str) -> bytes:
        try:
            if "=" in cursor:
                raise ValueError
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (ValueError, TypeError) as e:
            raise BadCursor from e
        if len(raw) < MAC_LEN:
            raise BadCursor
        payload, tag = raw[:-MAC_LEN], raw[-MAC_LEN:]
        if not hmac.compare_digest(tag, self._tag(scope, payload)):
            raise BadCursor
        return payload
