"""The DuckDB connection and its private directory, the SQL files' loader, the measures and the
settings: what every layer above stands on."""
