"""Starts and stops the local broker, ClickHouse and the services (`jianguan up`)."""
