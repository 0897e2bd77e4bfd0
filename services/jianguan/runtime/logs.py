"""How a service process logs: at JIANGUAN_LOG_LEVEL (INFO by default), as text or one JSON
object a line (JIANGUAN_LOG_FORMAT), to a rotating file of its own under JIANGUAN_LOG_DIR (set by
`jianguan up`: ``<state>/log/<service>.log``, at most JIANGUAN_LOG_MAX_MB MiB, JIANGUAN_LOG_BACKUPS
kept) or to stderr. The libraries' chatter below WARNING is left out unless the level is DEBUG:
faust and mode (which would otherwise also put a coloured console handler of their own in
place), aiokafka, kafka-python, clickhouse-driver."""

from __future__ import annotations

import json
import logging
import logging.handlers
import time
from pathlib import Path

from jianguan.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("faust", "mode", "aiokafka", "kafka", "clickhouse_driver")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts (UTC, ISO 8601), level, service, logger, message, and the
    exception's traceback when there is one."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out = {
            "ts": f"{ts}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def log_file(log_dir: Path, service: str) -> Path:
    return log_dir / f"{service}.log"


def configure_service_logging(service: str, settings: Settings) -> None:
    handler: logging.Handler
    if settings.log_dir is not None:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file(settings.log_dir, service),
            maxBytes=settings.log_max_mb * 2**20,
            backupCount=settings.log_backups,
            encoding="utf-8",
        )
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(service) if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = getattr(logging, settings.log_level)
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(level if level == logging.DEBUG else logging.WARNING)
    if level != logging.DEBUG:
        # While the broker elects a group coordinator (each start), aiokafka logs every retry
        # ("Marking the coordinator dead"), dozens a second; what lasts surfaces as errors.
        logging.getLogger("aiokafka.consumer.group_coordinator").setLevel(logging.ERROR)
