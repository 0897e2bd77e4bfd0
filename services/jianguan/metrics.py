"""Every Prometheus metric of jianguan, declared once, with help text.

Labels are bounded: provider ids come from the provider registry (a known, finite set), statuses
and reasons from enums. No event ids, user references or free text ever become label values.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Ingest (every path: gRPC gateway, Kafka inbound) -----------------------------------------------
INGEST_ITEMS = Counter(
    "jianguan_ingest_items_total",
    "Items received, by ingest path (grpc, kafka), provider and per-item outcome.",
    ["path", "provider", "status"],
)
INGEST_BATCH_SECONDS = Histogram(
    "jianguan_ingest_batch_seconds",
    "Time from receiving a batch to its ack (includes the broker's acknowledgement), by path.",
    ["path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
INGEST_PRODUCE_FAILURES = Counter(
    "jianguan_ingest_produce_failures_total",
    "Kafka records the broker did not acknowledge; their items were answered UNAVAILABLE.",
    ["path"],
)
INGEST_CHAIN_UNKNOWN = Counter(
    "jianguan_ingest_chain_unknown_total",
    "Batches answered UNAVAILABLE because where their chains stand could not be read in time.",
    ["path"],
)
INGEST_CHAIN_UNRECORDED = Counter(
    "jianguan_ingest_chain_unrecorded_total",
    "Batches whose chains' new heads the broker did not acknowledge (their items are stored).",
    ["path"],
)
INGEST_OUTCOME_FAILURES = Counter(
    "jianguan_ingest_outcome_failures_total",
    "Batch outcomes the broker did not take (the batch was still answered), by path.",
    ["path"],
)
INGEST_EVENT_AGE = Histogram(
    "jianguan_ingest_event_age_seconds",
    "Ingest lag: how long after it happened an event was accepted (newest event of each record),"
    " by path.",
    ["path"],
    buckets=(0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0),
)
INBOUND_REVOKED = Counter(
    "jianguan_inbound_revoked_records_total",
    "Inbound records passed over because their provider was revoked after they were fetched.",
)
INBOUND_RECORDS = Counter(
    "jianguan_inbound_records_total",
    "Records read from providers' inbound topics, by provider.",
    ["provider"],
)

# The provider registry (accounts.registry_watch) --------------------------------------------------
REGISTRY_RELOADS = Counter(
    "jianguan_registry_reloads_total",
    "Times this process took a changed provider registry file (a provider added, rotated or"
    " revoked while running).",
)
REGISTRY_RELOAD_FAILURES = Counter(
    "jianguan_registry_reload_failures_total",
    "Changed provider registry files this process could not take (unreadable or invalid): the"
    " last good registry stays in force.",
)
# Gateway ---------------------------------------------------------------------------------------
GATEWAY_BATCHES = Counter(
    "jianguan_gateway_batches_total",
    "Batches received by the ingest gateway, by RPC method.",
    ["method"],
)
GATEWAY_AUTH_FAILURES = Counter(
    "jianguan_gateway_auth_failures_total",
    "Calls refused before reading any item: missing or unknown credential.",
    ["reason"],
)
GATEWAY_REFUSED = Counter(
    "jianguan_gateway_refused_total",
    "Calls refused because their provider was at one of its bounds (streams: open Publish"
    " streams; in_flight: batches in flight and waiting), RESOURCE_EXHAUSTED.",
    ["bound"],
)
GATEWAY_OTLP_SPANS = Counter(
    "jianguan_gateway_otlp_spans_total",
    "Spans received by the OTLP trace receiver: stored (as Generation events), stored_before (an"
    " exporter's retry), refused (a GenAI span that cannot be reported, or refused at admission),"
    " passed_over (not a GenAI span).",
    ["result"],
)
# Consumer loops (kafka_io.consumer_loop) --------------------------------------------------------
CONSUMER_FAILURES = Counter(
    "jianguan_consumer_failures_total",
    "Attempts of a consumer on a record that failed (and were retried, or given up), by consumer.",
    ["consumer"],
)
DEAD_LETTERS = Counter(
    "jianguan_dead_letters_total",
    "Records a consumer gave up on after failing on them every time it tried; sent to"
    " jg.dead-letters.v1 and kept in the quarantine table, by consumer.",
    ["consumer"],
)

# Event store sink ------------------------------------------------------------------------------
STORE_ROWS = Counter(
    "jianguan_store_rows_written_total",
    "Rows inserted into ClickHouse by the sinks, by table (redeliveries included).",
    ["table"],
)
STORE_INSERT_SECONDS = Histogram(
    "jianguan_store_insert_seconds",
    "Duration of one ClickHouse insert of a sink, by table.",
    ["table"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
STORE_BATCH_ROWS = Histogram(
    "jianguan_store_batch_rows",
    "Rows per ClickHouse insert of a sink, by table.",
    ["table"],
    buckets=(1, 10, 100, 1000, 5000, 10000, 20000, 50000, 100000),
)
STORE_QUARANTINED = Counter(
    "jianguan_store_quarantined_total",
    "Records (or events of a record) a sink set aside in the quarantine table instead of storing"
    " them, by the table they were for and cause (undecodable, unattributed, bad_header,"
    " out_of_range, refused).",
    ["table", "cause"],
)
STORE_PASSED_OVER = Counter(
    "jianguan_store_passed_over_total",
    "Records a sink read again after a restart and passed over: their provider's rows of them are"
    " stored already (events_stored_offsets_by_provider), by table.",
    ["table"],
)
STORE_INSERT_FAILURES = Counter(
    "jianguan_store_insert_failures_total",
    "ClickHouse inserts that failed and were retried (offsets stay uncommitted).",
)
STORE_LAG = Gauge(
    "jianguan_store_lag_records",
    "Records between the sink's position and the fetch high watermark, per partition.",
    ["partition"],
)

# Rules (faust processors) -----------------------------------------------------------------------
RULES_SKIPPED = Counter(
    "jianguan_rules_skipped_records_total",
    "Records the rules could not read (not the message their topic carries), skipped so that they"
    " never stop the rules; the store sets the same records aside in its quarantine table.",
    ["agent"],
)
RULES_POSITION = Gauge(
    "jianguan_rules_events_position",
    "The next offset of jg.events.v1 the rules read, per partition (set by the worker holding"
    " it): the log's end offset minus this is how far the rules are behind ingest.",
    ["partition"],
)
RULES_LAG = Gauge(
    "jianguan_rules_events_lag_records",
    "Records of jg.events.v1 the rules have not read yet, per partition (the log's end as last"
    " fetched minus their position): deadlines and alerts are late by as much.",
    ["partition"],
)

# Compliance (from the case and alert projections) ----------------------------------------------
RULES_REBUILD_REMAINING = Gauge(
    "jianguan_rules_rebuild_remaining_events",
    "Stored events a partition of the rules' state still has to apply again from the event store"
    " before it takes new events (its changelog was missing or behind); 0 when it is whole.",
    ["partition"],
)
RULES_REBUILT = Counter(
    "jianguan_rules_rebuilt_events_total",
    "Stored events applied again from the event store to rebuild the rules' state.",
)
CASES_OPEN = Gauge(
    "jianguan_cases_open",
    "Cases not closed, by article and severity: each rules worker counts those of its partitions"
    " (sum over the workers), from its state, never by a query over every case fact.",
    ["article", "severity"],
)
CASES_OVERDUE = Gauge(
    "jianguan_cases_overdue",
    "Open cases with at least one missed deadline, by article and severity (per rules worker,"
    " as jianguan_cases_open).",
    ["article", "severity"],
)
ALERTS_RECENT = Gauge(
    "jianguan_alerts_recent",
    "Alerts detected (or, for store checks, still detected) in the last 24 hours, by rule and"
    " provider (providers are the registry's, a bounded set).",
    ["rule", "article", "severity", "provider"],
)

# Alert delivery --------------------------------------------------------------------------------
ALERTS_RAISED = Counter(
    "jianguan_alerts_raised_total",
    "Distinct alerts the dispatcher saw for the first time, by rule and severity.",
    ["rule", "severity"],
)
ALERT_DELIVERIES = Counter(
    "jianguan_alert_deliveries_total",
    "Delivery attempts to receivers, by receiver and outcome (delivered, retried, failed).",
    ["receiver", "outcome"],
)
ALERT_DELIVERY_SECONDS = Histogram(
    "jianguan_alert_delivery_seconds",
    "From an alert's detection to its delivery, by receiver.",
    ["receiver"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0),
)
ALERT_QUEUE = Gauge(
    "jianguan_alert_queue_alerts",
    "Alerts waiting for delivery, by receiver.",
    ["receiver"],
)
