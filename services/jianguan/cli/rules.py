"""`jianguan rules list`: the rules catalog, each rule with its article quoted, its parameters and
where each comes from."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from jianguan.domain.rules.catalog import CATALOG, shown
from jianguan.settings import Settings


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    """The rules catalog, as a table or as JSON."""
    if args.json:
        docs = []
        for r in CATALOG:
            doc = asdict(r)
            doc["article"].update(
                ref=r.article.ref, ref_zh=r.article.ref_zh, quote_zh=r.article.quote_zh
            )
            docs.append(doc)
        print(json.dumps(docs, ensure_ascii=False, indent=2))
        return 0
    for r in CATALOG:
        state = "active" if r.active else "planned"
        print(f"{r.id:28} {r.article.ref:16} {r.severity:9} {state:8} {r.title}")
        for line in r.article.quote_zh.splitlines():
            print(f"{'':28} {line}")
        print(f"{'':28} ({r.article.ref_zh}; in force from {r.in_force}: {r.in_force_source})")
        print(f"{'':28} {r.article.gloss_en}")
        for p in r.params:
            print(f"{'':28} - {p.name} = {shown(p.default)} {p.unit}: {p.description} [{p.source}]")
        print()
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="the rules catalog")
    rules_sub = rules.add_subparsers(dest="action", required=True)
    rules_list = rules_sub.add_parser("list", help="every rule with its article and parameters")
    rules_list.add_argument("--json", action="store_true", help="as JSON")
    rules.set_defaults(fn=cmd_rules)
