"""What every process of the platform does first: logging, then its settings from the
environment (``settings``); a setting that cannot be read is one line and exit status 2."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from jianguan.runtime.logs import TEXT_FORMAT, configure_service_logging
from jianguan.settings import Settings, SettingsError
from jianguan.store.executor import ClickHouseUrl


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format=TEXT_FORMAT,
    )
    if not verbose:
        # kafka-python (topic and ACL administration) logs every retry of a connection; what
        # failed in the end reaches the user as one error line (StartError, AccessError).
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
        # clickhouse-driver logs each refused connection with its traceback; the command says
        # what failed in one line.
        logging.getLogger("clickhouse_driver.connection").setLevel(logging.ERROR)


def read_settings() -> Settings | None:
    """The settings, or None after saying on stderr which one is wrong."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def servers(settings: Settings) -> tuple[str, ClickHouseUrl] | None:
    """The platform's Kafka bootstrap and ClickHouse (JIANGUAN_KAFKA, JIANGUAN_CLICKHOUSE_URL);
    None after saying on stderr that they are not set."""
    if settings.kafka and settings.clickhouse_url:
        return settings.kafka, ClickHouseUrl.parse(settings.clickhouse_url)
    print("error: JIANGUAN_KAFKA and JIANGUAN_CLICKHOUSE_URL must be set", file=sys.stderr)
    return None


def service_main(run: Callable[[Settings], int], service: str | Callable[[Settings], str]) -> int:
    """A service process's ``__main__``: ``run`` with the settings, logging as
    ``runtime.logs`` says under the service's name (or the name ``service`` reads from the
    settings); its exit status."""
    settings = read_settings()
    if settings is None:
        return 2
    configure_service_logging(service if isinstance(service, str) else service(settings), settings)
    return run(settings)
