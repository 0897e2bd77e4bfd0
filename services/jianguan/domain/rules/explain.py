"""Why a case was decided as it was, in English and Chinese. Pure.

A case's OPENED fact records the parameter values its deadlines were computed with
(``domain.rules.sla``): the rule's parameters (the catalog's, under the configuration in force)
and what a deadline was derived from (a published complaint deadline, its unit, the way days are
counted, the working calendar). ``explain`` gives each its unit, meaning and source — the law,
another norm with its article, or configuration — and whether configuration changed it from the
catalog's default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from jianguan.domain.rules.catalog import BY_ID, CONFIG, CONFIG_ZH, Param, Rule, shown
from jianguan.domain.rules.sla import DAY_COUNT, WORKING_DAY_COUNT

_CIVIL_CODE = (
    "PRC Civil Code Arts. 201, 203",
    "《中华人民共和国民法典》第二百零一条、第二百零三条",
)
_DAY_COUNTS = {
    DAY_COUNT: "自收到次日起算，至最后一日北京时间24时止（《民法典》第二百零一条、第二百零三条）",
    WORKING_DAY_COUNT: "以工作日计，自收到次日起算，至最后一个工作日北京时间24时止",
}
_UNITS = {"working": ("working days", "工作日"), "calendar": ("calendar days", "自然日")}
# What a case derives beside the rule's own parameters: (meaning en, meaning zh).
_DERIVED = {
    "day_count": ("how a period in days is counted", "期间的计算方法"),
    "calendar": (
        "the working calendar working days were counted on: weekends off, with the configured"
        " holidays and working days (its digest)",
        "计算工作日所用的工作日历：周末休息，另加所配置的节假日和调休工作日（摘要）",
    ),
    "resolve_days": ("the deadline to resolve and answer the complaint", "处理并反馈结果的期限"),
    "resolve_days_source": ("where the deadline was taken from", "期限的来源"),
    "resolve_days_unit": ("the unit the deadline was published in", "期限公布时所用的单位"),
}


@dataclass(frozen=True, slots=True)
class Explained:
    name: str
    value: str
    value_zh: str
    unit: str
    unit_zh: str
    meaning: str
    meaning_zh: str
    source: str
    source_zh: str
    default: str  # the catalog's default ('' for a derived value)
    configured: bool  # configuration set another value than the default

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain(rule_id: str, parameters: Sequence[tuple[str, str]]) -> list[Explained]:
    """Each recorded (name, value), explained; unknown names keep only their value."""
    rule = BY_ID.get(rule_id)
    recorded = dict(parameters)
    out = []
    for name, value in parameters:
        param = _param(rule, name)
        if param is not None:
            default = shown(param.default)
            out.append(
                Explained(
                    name, value, value, param.unit, param.unit_zh, param.description,
                    param.description_zh, param.source, param.source_zh, default,
                    _differs(value, param.default),
                )
            )  # fmt: skip
            continue
        meaning, meaning_zh = _DERIVED.get(name, ("", ""))
        value_zh, unit, source = value, ("", ""), ("", "")
        if name == "day_count":
            value_zh, source = _DAY_COUNTS.get(value, value), _CIVIL_CODE
        elif name == "calendar":
            source = (
                "configuration (JIANGUAN_HOLIDAYS, JIANGUAN_WORKDAYS)",
                "配置（节假日与调休）",
            )
        elif name == "resolve_days":
            unit = _UNITS.get(recorded.get("resolve_days_unit", "calendar"), _UNITS["calendar"])
            source = _published(recorded.get("resolve_days_source", ""))
        elif name == "resolve_days_unit":
            value_zh = _UNITS.get(value, (value, value))[1]
        elif name == "resolve_days_source":
            value_zh = _published(value)[1]
        out.append(
            Explained(
                name, value, value_zh, unit[0], unit[1], meaning, meaning_zh, source[0],
                source[1], "", False,
            )
        )  # fmt: skip
    return out


def _param(rule: Rule | None, name: str) -> Param | None:
    """The rule's own parameter ``name``; None for a derived value (or no such rule)."""
    try:
        return rule.param(name) if rule is not None else None
    except KeyError:
        return None


def _published(source: str) -> tuple[str, str]:
    """Where a complaint deadline came from: a registration that published it, or the default."""
    if source.startswith("registration "):
        event_id = source.removeprefix("registration ")
        return (
            f"published by the service in registration {event_id} (Art. 15)",
            f"服务在备案登记 {event_id} 中公布（第十五条）",
        )
    return (f"the rule's deadline_days ({CONFIG})", f"规则参数 deadline_days（{CONFIG_ZH}）")


def _differs(value: str, default: float) -> bool:
    try:
        return float(value) != float(default)
    except ValueError:
        return True
