"""faust's Kafka transport, with the consumer's fetch wait bounded.

faust builds its aiokafka consumer with ``fetch_max_wait_ms=1500`` and no setting to change it.
aiokafka keeps one fetch in flight per broker and leaves out of it every partition whose records
are still buffered; when the rules' busy partitions are buffered, the next fetch asks only for the
idle ones (the clock, the authority complaints, the changelog) and the broker holds it open for
the whole wait. The busy partitions, drained meanwhile, cannot be fetched until it returns: the
rules sat idle ~70 % of the time while a backlog waited on the broker (measured). A short wait
bounds that stall; an idle broker answers at most every ``FETCH_MAX_WAIT_MS``.

Selected by the broker URL's scheme (``jianguan-kafka://host:port``), registered on import.
"""

from __future__ import annotations

from typing import Any

from faust.transport import drivers
from faust.transport.drivers import aiokafka as driver

SCHEME = "jianguan-kafka"
FETCH_MAX_WAIT_MS = 50


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer


class Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    Consumer = Consumer


drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
