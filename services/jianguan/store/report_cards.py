"""The report cards as of the last store-check round: the ``report_cards`` view (every
provider's months, graded) computed once per round into ``report_card_snapshots`` (migration
0032), so that a page reads a provider's cards by key rather than computing every provider's.
Rounds older than ``KEEP_DAYS`` are dropped by their day's partition."""

from __future__ import annotations

from datetime import UTC, datetime

from jianguan.store.cluster_ddl import rows_of
from jianguan.store.executor import Executor

KEEP_DAYS = 2
COLUMNS = (
    "provider_id, month, events_stored, items_submitted, items_rejected, error_rate,"
    " days_over_error_limit, cases_opened, cases_closed, deadlines_missed, violations, grade,"
    " grade_a_error_rate, max_error_rate, grade_b_missed_deadlines, graded_with, late_reports,"
    " late_report_hours"
)
# The cards of the latest round, as a table expression readers filter and group.
LATEST = (
    "(SELECT * FROM report_card_snapshots"
    " WHERE taken = (SELECT max(taken) FROM report_card_snapshots)) AS report_cards"
)


def snapshot(executor: Executor, now: float) -> None:
    """Record the report cards as they stand at ``now``; drop the rounds of days past keeping.
    Idempotent per ``now`` only in what readers see (the latest round): call it once a round."""
    executor.execute(
        f"INSERT INTO report_card_snapshots (taken, {COLUMNS})"
        f" SELECT toDateTime(%(now)s), {COLUMNS} FROM report_cards",
        {"now": int(now)},
    )
    cut = datetime.fromtimestamp(now - KEEP_DAYS * 86400, UTC).strftime("%Y%m%d")
    # Asked of the rows (through a cluster's Distributed table: every shard's days), not of
    # system.parts, which knows only this server's.
    table = rows_of(executor, "report_card_snapshots")
    for (partition,) in executor.execute(
        "SELECT DISTINCT toYYYYMMDD(taken) FROM report_card_snapshots"
        " WHERE toYYYYMMDD(taken) < %(cut)s",
        {"cut": int(cut)},
    ):
        executor.execute(f"ALTER TABLE {table} DROP PARTITION {int(partition)}")
