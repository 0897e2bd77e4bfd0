"""Admission of provider batches, shared by every ingest path (gRPC gateway, Kafka inbound)."""
