from mediaplane.kit.db.base import Model, TimestampMixin, UUIDMixin, new_id
from mediaplane.kit.db.engine import Database, create_database
from mediaplane.kit.db.repository import RepositoryBase

__all__ = ["Database", "Model", "RepositoryBase", "TimestampMixin", "UUIDMixin", "create_database", "new_id"]
