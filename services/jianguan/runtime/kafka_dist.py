"""The Apache Kafka jars `make install` fetched from Maven Central (deploy/local/kafka/pom.xml),
run on the machine's Java: the broker, and the distribution's command-line tools by their
script names."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jianguan

# The distribution's bin/*.sh scripts, by name, and the class each one runs.
TOOLS = {
    "console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "topics": "org.apache.kafka.tools.TopicCommand",
    "consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "acls": "org.apache.kafka.tools.AclCommand",
    "configs": "org.apache.kafka.tools.ConfigCommand",
    "get-offsets": "org.apache.kafka.tools.GetOffsetShell",
    "log-dirs": "org.apache.kafka.tools.LogDirsCommand",
    "metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
    "storage": "kafka.tools.StorageTool",
}
BROKER_MAIN = "kafka.Kafka"


class KafkaNotInstalled(RuntimeError):
    pass


def kafka_home() -> Path:
    """Where the jars are: $JIANGUAN_KAFKA_HOME, else the checkout's .cache/kafka/current."""
    configured = os.environ.get("JIANGUAN_KAFKA_HOME")
    if configured:
        return Path(configured)
    return Path(jianguan.__file__).resolve().parents[2] / ".cache" / "kafka" / "current"


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise KafkaNotInstalled("no Java found: run `make install` (it installs a Java runtime)")
    return found


def classpath() -> str:
    libs = kafka_home() / "libs"
    if not (libs.parent / ".complete").exists():
        raise KafkaNotInstalled(
            f"the Apache Kafka jars are missing from {libs.parent}: run `make install`"
        )
    return f"{libs}/*"


def java_command(
    main: str, args: list[str], heap: str = "256m", log4j: Path | None = None
) -> list[str]:
    """``java … main args`` with the Kafka jars on the class path."""
    argv = [java_binary(), f"-Xmx{heap}", "-Djava.awt.headless=true"]
    if log4j is not None:
        argv.append(f"-Dlog4j2.configurationFile={log4j}")
    return [*argv, "-cp", classpath(), main, *args]


def tool_command(tool: str, args: list[str]) -> list[str]:
    """A tool of the distribution (``console-consumer``, ``acls``, …) as a command line."""
    if tool not in TOOLS:
        raise KeyError(f"unknown Kafka tool {tool!r}; known: {', '.join(sorted(TOOLS))}")
    return java_command(TOOLS[tool], args, heap="512m", log4j=_quiet_log4j())


def _quiet_log4j() -> Path:
    """Tools print their output on stdout; their own logging goes to stderr, warnings only."""
    path = kafka_home() / "tools-log4j2.properties"
    if not path.exists():
        path.write_text(LOG4J_TEMPLATE.format(target="SYSTEM_ERR", level="WARN"))
    return path


LOG4J_TEMPLATE = """\
rootLogger.level={level}
rootLogger.appenderRef.out.ref=OUT
appender.out.type=Console
appender.out.name=OUT
appender.out.target={target}
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
logger.started.name=kafka.server.KafkaRaftServer
logger.started.level=INFO
logger.controller.name=org.apache.kafka.controller
logger.controller.level=WARN
"""
