"""The faust application that hosts jianguan's stream processors.

Settings for Apache Kafka: at-least-once processing, the same partition count on every
co-partitioned topic (created before the agents start), short group timeouts.
"""

from __future__ import annotations

from pathlib import Path

import faust

from jianguan.contracts import topics
from jianguan.processors import transport


class Worker(faust.Worker):
    """faust's worker, logging as the process set it up (``runtime.logs``): mode's logging setup
    would clear the root's handlers and put a coloured stdout handler in their place (escape
    codes in the log files), and faust's would then set the root logger to DEBUG whatever level
    it is given, so that every debug call in faust and aiokafka builds a record no handler prints
    (measured: ~5 % of the rules process)."""

    def _setup_logging(self) -> None:
        """Leaves the process's logging as it is."""


def create_app(
    bootstrap: str,
    state_dir: Path,
    web_port: int,
    store: str = "rocksdb://",
    namespace: str = "",
    worker: str = "processors",
    partitions: int = topics.PARTITIONS,
) -> faust.App:
    """``worker``: the process's name among the rules workers; each keeps its state on disk in
    a directory of its own (RocksDB locks a database to one process)."""
    datadir = state_dir / "faust" / worker
    datadir.mkdir(parents=True, exist_ok=True)  # faust creates only its last level
    return faust.App(
        topics.processors_app_id(namespace),
        broker=f"{transport.SCHEME}://{bootstrap}",
        store=store,
        datadir=str(datadir),
        # A state on disk kept after a clean shutdown may be ahead of a changelog that was lost
        # since (a broker's data removed): faust then reads the new changelog from its start
        # rather than refusing to start, and the rebuild completes the state from the event
        # store (processors.rebuild, processors.local_state).
        recovery_consistency_check=False,
        processing_guarantee="at_least_once",
        topic_partitions=partitions,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=10,
        broker_rebalance_timeout=10,
        broker_heartbeat_interval=2,
        # The rules' writes (a changelog record per unit changed, a record of facts per input
        # record) go out in large batches: each produce request costs the event loop a round of
        # work whatever it carries.
        producer_linger=0.005,
        producer_max_batch_size=512 * 1024,
        # No standby copies: with several workers each would tail the others' changelog (a
        # second pass over every state write). A worker taking partitions over restores them
        # from the changelog, or from the event store (processors.rebuild).
        table_standby_replicas=0,
        # Records prefetched per stream: ours are batches (hundreds of events each), so faust's
        # 4096 held hundreds of MB while the rules were behind (the processors' memory grew with
        # their lag); 256 batches still keep the agent busy.
        stream_buffer_maxsize=256,
        web_host="127.0.0.1",
        web_port=web_port,
        web_bind="127.0.0.1",
        autodiscover=False,
    )
