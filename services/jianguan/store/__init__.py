"""ClickHouse: migrations, batch writer, readers and the event-store sink."""
