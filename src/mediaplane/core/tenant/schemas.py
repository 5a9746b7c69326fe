from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TenantCreate(BaseModel):
    name: str = Field(description="Tenant id: lowercase letters and digits")
    username: str = Field(default="admin", min_length=1, max_length=100)
    password: str | None = Field(default=None, min_length=8, max_length=200)


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    createdAt: datetime = Field(validation_alias="created_at")


class TenantCreated(TenantOut):
    username: str
    token: str = Field(description="The first personal access token; shown once")
