"""The gRPC ingest gateway."""
