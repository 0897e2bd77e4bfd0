"""Provider client library."""
