"""Alembic migrations of the operational store, shipped inside the package.

They run only through `custos.store.open_store`, which hands Alembic an open
connection; there is no alembic.ini.
"""
