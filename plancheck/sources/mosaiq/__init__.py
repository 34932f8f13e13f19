"""MOSAIQ (Microsoft SQL Server) source: read-only, SQLAlchemy Core, MOSAIQ's own table and column names."""
