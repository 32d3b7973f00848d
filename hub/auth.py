"""Who is asking: bearer JWTs (HS256, RS256, ES256) and API keys become a Principal."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from typing import Any

import jwt

from adapters.registry import load_departments
from hub.core.caches import BoundedCache, digest
from hub.core.codes import LEAGUE
from hub.core.errors import BadUserInput, Unauthenticated
from hub.core.principal import Principal, check_claims
from hub.core.settings import Settings

MAX_CREDENTIAL_CHARS = 8192  # a longer bearer token or API key is refused before anything else
_TTL = re.compile(r"^(\d+)([smhd])$")


def parse_ttl(text: str) -> dt.timedelta:
    """'90s', '30m', '8h', '7d' -> timedelta."""
    match = _TTL.match(text.strip())
    if not match:
        raise BadUserInput(f"有效期格式应如 8h / ttl must look like 30m, 8h or 7d: {text!r}")
    n, unit = int(match.group(1)), match.group(2)
    return dt.timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})


def create_token(settings: Settings, department: str | None, roles: list[str], region: str = LEAGUE,
                 ttl: str = "8h", subject: str | None = None) -> str:
    """An HS256 token signed with the configured secret, for a department of the configured table."""
    check_claims(department, roles, region, load_departments(settings).ids)
    secret = settings.jwt_shared_secret()
    if not secret:
        raise BadUserInput("未配置 HUB_JWT_SECRET / no JWT secret configured (HUB_JWT_SECRET or HUB_JWT_SECRET_FILE)")
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": subject or f"{department or roles[0]}-{uuid.uuid4().hex[:8]}",
        "dept": department,
        "roles": roles,
        "region": region,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + parse_ttl(ttl),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


VERIFIED_TOKENS = 4096  # tokens remembered after verification (by digest)
_PRINCIPAL_BYTES = 2048  # a verified token's principal and claims, at most about


class TokenVerifier:
    """Verifies bearer tokens against the configured secret, public key or JWKS file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.departments = load_departments(settings).ids
        self._keys: list[tuple[Any, list[str]]] = []
        self._verified = BoundedCache("verified tokens", VERIFIED_TOKENS, VERIFIED_TOKENS * _PRINCIPAL_BYTES)
        secret = settings.jwt_shared_secret()
        if secret:
            self._keys.append((secret, ["HS256"]))
        if settings.jwt_public_key_file:
            self._keys.append((settings.jwt_public_key_file.read_text(encoding="utf-8"), ["RS256", "ES256"]))
        if settings.jwt_jwks_file:
            jwks = jwt.PyJWKSet.from_dict(json.loads(settings.jwt_jwks_file.read_text(encoding="utf-8")))
            self._jwks = {k.key_id: k for k in jwks.keys}
        else:
            self._jwks = {}

    @property
    def configured(self) -> bool:
        """Whether any key can verify a token (without one, every bearer token is refused)."""
        return bool(self._keys or self._jwks)

    def _candidates(self, token: str) -> list[tuple[Any, list[str]]]:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid and kid in self._jwks:
            key = self._jwks[kid]
            return [(key.key, [key.algorithm_name])]
        return self._keys + [(k.key, [k.algorithm_name]) for k in self._jwks.values()]

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; Unauthenticated (bilingual) otherwise.

        A client sends the same token with every request until it expires: a token verified once
        is remembered by its digest (bounded, least recently used out) with its expiry, which is
        still checked. A token longer than any this hub issues is refused at once.
        """
        if len(token) > MAX_CREDENTIAL_CHARS:
            raise Unauthenticated("令牌过长 / token too long")
        key = digest(token)
        known = self._verified.get(key)
        if known is not None:
            expires, principal = known
            if time.time() < expires:
                return principal
            del self._verified[key]
            raise Unauthenticated("令牌已过期 / token expired")
        principal = self._verify(token)
        self._verified.put(key, (float(principal.claims["exp"]), principal))
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            candidates = self._candidates(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"令牌格式错误 / malformed token: {exc}") from exc
        last: Exception | None = None
        for key, algorithms in candidates:
            try:
                claims = jwt.decode(
                    token, key, algorithms=algorithms, audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer, options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except jwt.ExpiredSignatureError as exc:
                raise Unauthenticated("令牌已过期 / token expired") from exc
            except jwt.PyJWTError as exc:
                last = exc
                continue
            return principal_from_claims(claims, "jwt", self.departments)
        raise Unauthenticated(f"令牌无效 / invalid token: {last or 'no key configured'}")


def principal_from_claims(claims: dict[str, Any], via: str, departments: tuple[str, ...]) -> Principal:
    """A Principal from verified claims; anything but a known department, a flat list of known roles and a
    known region code is refused (no default: a token without a region sees nothing, not the league)."""
    department: Any = claims.get("dept")
    roles: Any = claims.get("roles")
    region: Any = claims.get("region")
    try:
        check_claims(department, roles, region, departments)
    except BadUserInput as exc:
        raise Unauthenticated(f"令牌声明无效 / invalid claims: {exc.message}") from exc
    return Principal(str(claims["sub"]), department, tuple(roles), region, via, claims)


class Authenticator:
    """Turns request headers into a Principal: `Authorization: Bearer <JWT>` or `X-API-Key: <key>`."""

    def __init__(self, tokens: TokenVerifier, api_keys: Any = None) -> None:
        self.tokens = tokens
        self.api_keys = api_keys  # an object with `async verify(key) -> Principal`, or None

    async def __call__(self, headers: dict[bytes, bytes]) -> Principal:
        authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
        if authorization[:7].lower() == "bearer ":
            return self.tokens.verify(authorization[7:].strip())
        key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
        if len(key) > MAX_CREDENTIAL_CHARS:
            raise Unauthenticated("API 密钥过长 / API key too long")
        if key and self.api_keys is not None:
            return await self.api_keys.verify(key)  # type: ignore[no-any-return]
        raise Unauthenticated(
            "需要身份认证：请提供 Authorization: Bearer <令牌> 或 X-API-Key / "
            "authentication required: send Authorization: Bearer <token> or X-API-Key"
        )
