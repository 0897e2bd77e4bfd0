"""The regulator console: an HTTP server reading ClickHouse through the read-only user."""
