"""The platform: tenants, users, tokens, catalog, instances. Imports kit, never a service."""
