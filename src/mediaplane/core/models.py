"""Imports every platform table so metadata is complete (migrations, checks)."""

from mediaplane.core.instance.models import Instance, InstanceLog
from mediaplane.core.tenant.models import Tenant, User
from mediaplane.core.token.models import PersonalAccessToken
from mediaplane.kit.jobs.models import JobRecord

__all__ = ["Instance", "InstanceLog", "JobRecord", "PersonalAccessToken", "Tenant", "User"]
