"""PostgreSQL access: the trio↔asyncpg bridge, named SQL queries and migrations."""
