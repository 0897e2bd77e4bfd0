"""`jianguan …` subcommands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from jianguan.gateway.server import TlsConfig
from jianguan.ingest.registry import (
    Provider,
    ProviderRegistry,
    RegistryError,
    new_token,
    token_digest,
)
from jianguan.runtime.stack import Stack, StackConfig
from jianguan.settings import Settings
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import DEMO_PROVIDERS, ProviderTraffic
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.migrate import migrate


def _tls(settings: Settings) -> TlsConfig | None:
    if settings.tls_cert and settings.tls_key:
        return TlsConfig(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    return None


def _config(
    args: argparse.Namespace, settings: Settings, registry: ProviderRegistry, state: Path
) -> StackConfig:
    return StackConfig(
        state_dir=state,
        registry=registry,
        kafka=args.kafka or settings.kafka,
        clickhouse_url=args.clickhouse or settings.clickhouse_url,
        database=settings.database,
        gateway_host=settings.gateway_host,
        gateway_port=args.port if args.port is not None else settings.gateway_port,
        metrics_port=settings.metrics_port,
        tls=_tls(settings),
        topic_namespace=settings.topic_namespace,
    )


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _print_endpoints(stack: Stack) -> None:
    print("jianguan is up:", flush=True)
    for name, value in stack.endpoints.items():
        print(f"  {name:42} {value}", flush=True)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    try:
        registry = ProviderRegistry.load(settings.providers_file)
    except RegistryError as exc:
        print(
            f"error: {exc}\n(register providers with `jianguan providers add ID`)", file=sys.stderr
        )
        return 2

    async def main() -> None:
        stack = Stack(_config(args, settings, registry, settings.state_dir))
        await stack.start()
        try:
            _print_endpoints(stack)
            print("Ctrl-C stops everything.", flush=True)
            await _until_signalled()
        finally:
            print("stopping…", flush=True)
            await stack.stop()

    asyncio.run(main())
    return 0


def _demo_registry() -> tuple[ProviderRegistry, dict[str, str]]:
    tokens = {pid: new_token() for pid in DEMO_PROVIDERS}
    registry = ProviderRegistry(
        [Provider(pid, pid, token_sha256=token_digest(tok)) for pid, tok in tokens.items()]
    )
    return registry, tokens


def _count_stored(url: ClickHouseUrl) -> int:
    ex = ServerExecutor(url)
    try:
        return int(ex.execute("SELECT count() FROM events FINAL")[0][0])
    finally:
        ex.close()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    registry, tokens = _demo_registry()
    if args.smoke:
        with tempfile.TemporaryDirectory(prefix="jianguan-smoke-") as tmp:
            return asyncio.run(_smoke(args, settings, registry, tokens, Path(tmp)))
    return asyncio.run(_demo(args, settings, registry, tokens))


async def _smoke(
    args: argparse.Namespace,
    settings: Settings,
    registry: ProviderRegistry,
    tokens: dict[str, str],
    state: Path,
) -> int:
    cfg = _config(args, settings, registry, state)
    cfg.metrics_port = None
    cfg.gateway_port = 0
    stack = Stack(cfg)
    started = time.monotonic()
    await stack.start()
    try:
        assert stack.gateway is not None
        assert stack.writer_url is not None
        target = f"127.0.0.1:{stack.gateway.port}"
        tally = Tally()
        per = [args.events // len(tokens)] * len(tokens)
        per[0] += args.events - sum(per)
        await asyncio.gather(
            *(
                stream_provider(
                    target,
                    tokens[pid],
                    ProviderTraffic(pid, DEMO_PROVIDERS[pid], args.seed),
                    n,
                    args.batch,
                    tally,
                )
                for pid, n in zip(tokens, per, strict=True)
            )
        )
        stored = 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            stored = await asyncio.to_thread(_count_stored, stack.writer_url)
            if stored >= tally.accepted:
                break
            await asyncio.sleep(0.2)
        result = {
            "sent": tally.sent,
            "accepted": tally.accepted,
            "stored": stored,
            "rejected": tally.rejected,
            "seconds": round(time.monotonic() - started, 2),
        }
        print(json.dumps(result), flush=True)
        return 0 if tally.sent == tally.accepted == stored == args.events else 1
    finally:
        await stack.stop()


async def _demo(
    args: argparse.Namespace, settings: Settings, registry: ProviderRegistry, tokens: dict[str, str]
) -> int:
    state = settings.state_dir / "demo"
    stack = Stack(_config(args, settings, registry, state))
    await stack.start()
    try:
        assert stack.gateway is not None
        assert stack.writer_url is not None
        _print_endpoints(stack)
        print(
            f"demo providers: {', '.join(tokens)}; {args.rate:.0f} events/s. Ctrl-C stops.",
            flush=True,
        )
        target = f"127.0.0.1:{stack.gateway.port}"
        tally = Tally()
        rate = args.rate / len(tokens)
        senders = [
            asyncio.create_task(
                stream_provider(
                    target,
                    tok,
                    ProviderTraffic(pid, DEMO_PROVIDERS[pid], int(time.time())),
                    10**12,
                    200,
                    tally,
                    rate,
                )
            )
            for pid, tok in tokens.items()
        ]
        stop = asyncio.create_task(_until_signalled())
        while not stop.done():
            await asyncio.wait([stop, *senders], timeout=2.0, return_when=asyncio.FIRST_COMPLETED)
            if any(s.done() and s.exception() for s in senders):
                raise next(s.exception() for s in senders if s.done() and s.exception())  # type: ignore[misc]
            stored = await asyncio.to_thread(_count_stored, stack.writer_url)
            print(
                f"{time.strftime('%H:%M:%S')}  sent {tally.sent:>9}  accepted {tally.accepted:>9}"
                f"  stored {stored:>9}  rejected {sum(tally.rejected.values()):>6}",
                flush=True,
            )
        for s in senders:
            s.cancel()
        return 0
    finally:
        print("stopping…", flush=True)
        await stack.stop()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    url = args.clickhouse or settings.clickhouse_url
    if not url:
        print("error: give --clickhouse clickhouse://user:pass@host:port/db", file=sys.stderr)
        return 2
    ex = ServerExecutor(ClickHouseUrl.parse(url), create_database=True)
    try:
        for m in migrate(ex):
            print(f"applied {m.version:04d}_{m.name}")
    finally:
        ex.close()
    return 0


def cmd_providers(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.providers_file
    registry = ProviderRegistry.load(path) if path.exists() else ProviderRegistry([])
    if args.action == "list":
        for p in registry.providers:
            print(f"{p.id:24} {p.name:32} rate={p.rate_per_s:.0f}/s mtls={p.mtls_subject or '-'}")
        return 0
    if registry.get(args.id) is not None:
        print(f"error: provider {args.id!r} exists", file=sys.stderr)
        return 2
    token = new_token()
    provider = Provider(
        args.id,
        args.name or args.id,
        token_sha256=token_digest(token),
        mtls_subject=args.mtls_subject or "",
        rate_per_s=args.rate,
        burst=args.rate * 2,
    )
    try:
        updated = ProviderRegistry([*registry.providers, provider])
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated.dump(), encoding="utf-8")
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    print(f"registered {args.id}; its token (shown once, store it safely):\n{token}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jianguan", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    def stack_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--kafka", help="use this Kafka bootstrap (HOST:PORT) instead of the embedded broker"
        )
        sp.add_argument(
            "--clickhouse", help="use this ClickHouse (clickhouse://user:pass@host:port/db)"
        )
        sp.add_argument("--port", type=int, help="gateway port (0 = any free port)")

    up = sub.add_parser("up", help="start the platform on this machine")
    stack_args(up)
    up.set_defaults(fn=cmd_up)

    demo = sub.add_parser("demo", help="`up` plus realistic traffic from several providers")
    stack_args(demo)
    demo.add_argument("--rate", type=float, default=2000.0, help="events per second (demo)")
    demo.add_argument("--smoke", action="store_true", help="send --events, verify storage, exit")
    demo.add_argument("--events", type=int, default=20000)
    demo.add_argument("--batch", type=int, default=500)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--timeout", type=float, default=90.0, help="smoke: seconds to wait for storage"
    )
    demo.set_defaults(fn=cmd_demo)

    mig = sub.add_parser("migrate", help="apply ClickHouse migrations")
    mig.add_argument("--clickhouse")
    mig.set_defaults(fn=cmd_migrate)

    prov = sub.add_parser("providers", help="the provider registry")
    prov_sub = prov.add_subparsers(dest="action", required=True)
    add = prov_sub.add_parser("add", help="register a provider and print its token")
    add.add_argument("id")
    add.add_argument("--name")
    add.add_argument("--mtls-subject")
    add.add_argument("--rate", type=float, default=200_000.0)
    prov_sub.add_parser("list")
    prov.set_defaults(fn=cmd_providers)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result: int = args.fn(args, Settings.from_env())
    return result


if __name__ == "__main__":
    sys.exit(main())
