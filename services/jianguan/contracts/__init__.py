"""The wire contract: generated protobuf types, topic names, codecs and validation."""
