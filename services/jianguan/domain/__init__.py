"""Pure domain logic: no I/O, no wall clock, no grpc/kafka/faust/clickhouse imports."""
