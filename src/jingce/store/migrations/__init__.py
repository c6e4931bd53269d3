"""Alembic migrations of the registry (run by :func:`jingce.store.migrate.upgrade`)."""
