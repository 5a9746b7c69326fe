from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ServiceTokenRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    serviceId: str = Field(min_length=1, max_length=63)


class ServiceToken(BaseModel):
    serviceId: str
    token: str
    expiry: int = Field(description="Unix time (seconds) when the token expires")


class PatCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class Pat(BaseModel):
    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: str
    name: str
    tenantId: str = Field(validation_alias="tenant_id")
    createdAt: datetime = Field(validation_alias="created_at")
    lastUsedAt: datetime | None = Field(validation_alias="last_used_at")
    revokedAt: datetime | None = Field(validation_alias="revoked_at")


class PatCreated(Pat):
    token: str = Field(description="Shown once; store it now")


class Me(BaseModel):
    tenantId: str
    userId: str
    patId: str
