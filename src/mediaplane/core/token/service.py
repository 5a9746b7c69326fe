"""PATs (long-lived, revocable, listed) and SATs (short-lived, one service): issue and verify."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.runtime import Runtime
from mediaplane.core.token.models import PersonalAccessToken
from mediaplane.core.token.repository import PatRepository
from mediaplane.kit.errors import BadRequest, Forbidden, NotFound, Unauthorized
from mediaplane.kit.security import TokenError, TokenExpired, TokenSigner, sha256_hex

PAT_PURPOSE = "pat"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    user_id: str
    pat_id: str
    service_id: str | None = None


@dataclass(frozen=True)
class IssuedSat:
    service_id: str
    token: str
    expiry: int


def _pat_signer(runtime: Runtime) -> TokenSigner:
    return TokenSigner(runtime.settings.secret, PAT_PURPOSE, clock=runtime.clock)


def _sat_signer(runtime: Runtime, service_id: str) -> TokenSigner:
    # A key per service: a SAT for one service never verifies at another.
    return TokenSigner(runtime.settings.secret, f"sat:{service_id}", clock=runtime.clock)


def bearer_value(header: str | None) -> str | None:
    """`Bearer <token>` (or the bare token) → token; anything else → None."""
    if not header:
        return None
    parts = header.strip().split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    if len(parts) == 1 and parts[0].count(".") == 2:
        return parts[0]
    return None


class TokenService:
    async def create_pat(
        self, session: AsyncSession, runtime: Runtime, *, tenant_id: str, user_id: str, name: str
    ) -> tuple[PersonalAccessToken, str]:
        name = name.strip()
        if not name or len(name) > 100:
            raise BadRequest("A token name of 1 to 100 characters is required")
        row = PersonalAccessToken(tenant_id=tenant_id, user_id=user_id, name=name, token_hash="")
        row.created_at = runtime.clock.now()
        await PatRepository(session).create(row)
        token = _pat_signer(runtime).sign({"tenantId": tenant_id, "userId": user_id, "patId": row.id})
        row.token_hash = sha256_hex(token)
        await session.flush()
        return row, token

    async def authenticate_pat(self, session: AsyncSession, runtime: Runtime, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("Missing personal access token")
        try:
            claims = _pat_signer(runtime).verify(token)
        except TokenError as exc:
            raise Unauthorized("Invalid personal access token") from exc
        row = await PatRepository(session).get(str(claims.get("patId", "")))
        if row is None or not hmac.compare_digest(row.token_hash, sha256_hex(token)):
            raise Unauthorized("Invalid personal access token")
        if row.revoked_at is not None:
            raise Unauthorized("Personal access token has been revoked")
        now = runtime.clock.now()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            row.last_used_at = now
            await session.flush()
        return Principal(row.tenant_id, row.user_id, row.id)

    def issue_sat(self, runtime: Runtime, principal: Principal, service_id: str) -> IssuedSat:
        lifetime = int(runtime.settings.sat_lifetime.total_seconds())
        token = _sat_signer(runtime, service_id).sign(
            {
                "tenantId": principal.tenant_id,
                "userId": principal.user_id,
                "patId": principal.pat_id,
                "serviceId": service_id,
            },
            lifetime_seconds=lifetime,
        )
        return IssuedSat(service_id, token, runtime.clock.timestamp() + lifetime)

    async def authenticate_sat(
        self, session: AsyncSession, runtime: Runtime, token: str | None, service_id: str
    ) -> Principal:
        if not token:
            raise Unauthorized("Missing service access token")
        try:
            claims = _sat_signer(runtime, service_id).verify(token)
        except TokenExpired as exc:
            raise Unauthorized("Service Access Token expired") from exc
        except TokenError as exc:
            # Signed for another service, a PAT, or garbage: all the same to the caller.
            raise Unauthorized(f"Invalid service access token for {service_id}") from exc
        if claims.get("serviceId") != service_id:
            raise Forbidden(f"Service access token is not valid for {service_id}")
        pat = await PatRepository(session).get(str(claims.get("patId", "")))
        if pat is None or pat.revoked_at is not None or pat.tenant_id != claims.get("tenantId"):
            raise Unauthorized("The personal access token behind this service access token was revoked")
        return Principal(pat.tenant_id, pat.user_id, pat.id, service_id)

    async def list_pats(self, session: AsyncSession, tenant_id: str) -> list[PersonalAccessToken]:
        return list(await PatRepository(session).list_for_tenant(tenant_id))

    async def revoke_pat(
        self, session: AsyncSession, runtime: Runtime, *, tenant_id: str, pat_id: str
    ) -> PersonalAccessToken:
        row = await PatRepository(session).get_in_tenant(tenant_id, pat_id)
        if row is None:
            raise NotFound(f"No token {pat_id}")
        if row.revoked_at is None:
            row.revoked_at = runtime.clock.now()
            await session.flush()
        return row


token_service = TokenService()
