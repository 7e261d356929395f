"""Case data: the worklist entries issued and what the home visits found (contract table ``outcomes``).

Kept in a relational store (SQLAlchemy 2, Alembic migrations): SQLite at ``<warehouse>/povwatch.db`` by default,
PostgreSQL through ``POVWATCH_DB_URL``. Survey data stays in the Parquet warehouse; outcomes are never model inputs.
"""
