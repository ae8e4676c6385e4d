"""Persistence: SQLAlchemy tables, Alembic migrations and keyword-only repository functions.

Import :mod:`cinerec.db.engine` to connect and migrate, and :mod:`cinerec.db.repository` to
read and write; only services and the web/CLI layers use this package.
"""
