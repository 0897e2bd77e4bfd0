-- Chains per reporting process (issue: every provider can report): an event's chain is
-- (provider, service, stream_id), so that replicas of a service each keep a chain of their own
-- (Envelope.stream_id; empty for a service's one chain, as every event stored before this).
ALTER TABLE events ADD COLUMN
    stream_id String DEFAULT '' AFTER service_id;
