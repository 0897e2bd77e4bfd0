"""The console process (`python -m jianguan.console`, what `up` runs): the regulator console on
JIANGUAN_CONSOLE_HOST:PORT, reading ClickHouse as JIANGUAN_CONSOLE_CLICKHOUSE_URL's user; runs
until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from jianguan.console.access_log import AccessLog
from jianguan.console.server import Console, serve
from jianguan.runtime.signals import stop_event
from jianguan.settings import Settings
from jianguan.store.executor import ClickHouseUrl


def access_log_path(settings: Settings) -> Path:
    return settings.state_dir / "console" / "evidence-access.log"


def run(settings: Settings) -> int:
    url_text = settings.console_clickhouse_url or settings.clickhouse_url
    if not url_text:
        print("error: JIANGUAN_CONSOLE_CLICKHOUSE_URL is not set", file=sys.stderr)
        return 2
    if settings.console_clickhouse_url is None:
        note = (
            "note: the console reads as the writer's ClickHouse user, in read-only sessions;"
            " give it a read-only user with JIANGUAN_CONSOLE_CLICKHOUSE_URL"
        )
        print(note, file=sys.stderr)
    console = Console(
        ClickHouseUrl.parse(url_text),
        settings.regulators_file,
        settings.providers_file,
        AccessLog(access_log_path(settings)),
        settings.console_secure_cookies,
    )

    async def main() -> None:
        runner = await serve(console, settings.console_host, settings.console_port)
        stop = stop_event()
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())
    return 0
