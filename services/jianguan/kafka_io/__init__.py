"""Kafka in one place: the platform's clients (consumers, producers), topic administration,
and who may do what on the brokers (SCRAM credentials and ACLs)."""
