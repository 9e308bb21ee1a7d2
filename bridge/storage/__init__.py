"""Persistence on SQLAlchemy 2 async: SQLite by default, PostgreSQL for several replicas."""
