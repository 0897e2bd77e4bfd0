"""The rules catalog: every automated check, the article it enforces (quoted from the Measures,
with an English gloss), its severity, the events it reads, its parameters and what it emits.

Data, in one place. Where the law sets no number, the default is configuration and says so
(``source``). Articles are cited by place; their words come from the official simplified-Chinese
text shipped with the package (``jianguan.domain.law``), whole paragraphs or items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from jianguan.domain import law
from jianguan.domain.law import Citation

CRITICAL, HIGH, MEDIUM, LOW = "critical", "high", "medium", "low"
_CST = timezone(timedelta(hours=8))
MEASURES_IN_FORCE = "the Measures Art. 24 (本办法自2023年8月15日起施行)"
CONFIG = "configuration: the Measures set no number"
CONFIG_ZH = "配置：本办法未规定具体数值"
UNITS_ZH = {
    "hours": "小时", "days": "日", "working days": "工作日", "inputs": "次", "share": "比例",
    "users": "人", "minutes": "分钟", "deadlines": "项", "keywords": "个", "questions": "题",
}  # fmt: skip
# The norm Art. 17 refers the filing formalities to (cited, not quoted: the project ships only the
# Measures' text): filing within 10 working days of starting service, a change within 10 of the
# change, cancellation within 20 of stopping.
ALGO_ART24 = "Algorithm Recommendation Provisions (互联网信息服务算法推荐管理规定) Art. 24"
ALGO_ART24_ZH = "《互联网信息服务算法推荐管理规定》第二十四条"
ASSESSMENT_ZH = (
    "《具有舆论属性或社会动员能力的互联网信息服务安全评估规定》（2018）第三条第（一）项："
    "服务上线时由提供者自行开展安全评估"
)
# The national standard on which safety evaluations are made (cited by its headings, not quoted).
TC260 = "TC260-003-2024 Basic Security Requirements for Generative AI Services"
TC260_ZH = "TC260-003-2024《生成式人工智能服务安全基本要求》"
TC260_KEYWORDS = f"{TC260}, keyword library requirements (关键词库)"
TC260_KEYWORDS_ZH = f"{TC260_ZH}关键词库要求"
TC260_CONTENT = f"{TC260}, security assessment of generated content (生成内容安全评估)"
TC260_CONTENT_ZH = f"{TC260_ZH}生成内容安全评估"
TC260_REFUSAL = f"{TC260}, assessment of refusals to answer (问题拒答评估)"
TC260_REFUSAL_ZH = f"{TC260_ZH}问题拒答评估"
REASSESSMENT = (
    "Provisions on the Security Assessment of Internet Information Services with Public-Opinion"
    " Attributes or Social-Mobilisation Capacity (2018) Art. 3 (2): the provider assesses the"
    " service again when new technology or applications change how it is technically"
    " implemented in a major way"
)
REASSESSMENT_ZH = (
    "《具有舆论属性或社会动员能力的互联网信息服务安全评估规定》（2018）第三条第（二）项："
    "使用新技术新应用致使技术实现方式等发生重大变更的，由提供者自行开展安全评估"
)


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter of a rule: its default, unit and meaning, and where the default comes from
    (the law, another norm with its article, or configuration), in English and Chinese."""

    name: str
    default: float
    unit: str
    description: str
    source: str = CONFIG
    description_zh: str = ""
    source_zh: str = CONFIG_ZH

    @property
    def unit_zh(self) -> str:
        return UNITS_ZH[self.unit]


@dataclass(frozen=True, slots=True)
class Article:
    """What a rule enforces: the places of the Measures it cites and an English gloss (not an
    official translation). The Chinese is the official text, whole (``jianguan.domain.law``)."""

    cites: tuple[Citation, ...]
    gloss_en: str

    @property
    def ref(self) -> str:
        """e.g. "Art. 14 ¶1": how cases, alerts and filters name it."""
        return " / ".join(c.ref for c in self.cites)

    @property
    def ref_zh(self) -> str:
        return "、".join(c.ref_zh for c in self.cites)

    @property
    def quote_zh(self) -> str:
        return "\n".join(c.text() for c in self.cites)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    article: Article
    title: str
    severity: str
    reads: tuple[str, ...]
    emits: tuple[str, ...]
    params: tuple[Param, ...] = field(default_factory=tuple)
    # False while the rule is catalogued but no engine enforces it yet: listed as "planned", so
    # nobody mistakes the catalog for what the platform checks today.
    active: bool = False
    # The day (Beijing time) the norm it enforces took effect, and which norm says so: nothing
    # before it opens a case or counts as a violation.
    in_force: str = law.IN_FORCE
    in_force_source: str = MEASURES_IN_FORCE

    @property
    def in_force_s(self) -> float:
        """The first instant the rule judges: 00:00 Beijing time on ``in_force``."""
        day = date.fromisoformat(self.in_force)
        return datetime(day.year, day.month, day.day, tzinfo=_CST).timestamp()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"rule {self.id} has no parameter {name!r}")

    def values(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """Its parameters' values in force: the defaults under ``overrides`` (checked by
        ``check_overrides`` where configuration is read)."""
        o = overrides or {}
        return {p.name: _number(o.get(p.name, p.default)) for p in self.params}


def shown(value: float) -> str:
    """A parameter's value as recorded on a decision and shown to people (``24``, ``0.999``)."""
    return f"{value:g}"


def _number(value: float) -> float:
    """A whole number as an int (SQL takes ``DateTime - 24 * 3600``, not ``- 24.0 * 3600``)."""
    return int(value) if float(value).is_integer() else float(value)


ART14_1 = Article(
    (Citation(14, 1),),
    "A provider that finds illegal content shall promptly stop generating it, stop transmitting"
    " it or remove it, rectify the model (e.g. by optimisation training), and report to the"
    " competent authorities.",
)
ART14_2 = Article(
    (Citation(14, 2),),
    "A provider that finds a user engaged in illegal activity through the service shall, by law"
    " and by agreement, warn, restrict functions, suspend or terminate service to that user, keep"
    " the records and report to the competent authorities.",
)
ART15 = Article(
    (Citation(15),),
    "Providers shall run a complaint and reporting mechanism with a convenient entry point,"
    " publish the process and the response deadline, and promptly accept, handle and answer"
    " complaints.",
)
ART11 = Article(
    (Citation(11, 2),),
    "Providers shall promptly accept and handle requests from individuals to access, copy,"
    " correct, supplement or delete their personal information.",
)
ART12 = Article(
    (Citation(12),),
    "Providers shall label generated images, videos and other content under the Deep Synthesis"
    " Provisions (detailed by the Labeling Measures and GB 45438-2025).",
)
ART17 = Article(
    (Citation(17),),
    "A service with public-opinion attributes or social-mobilisation capacity must carry out a"
    " security assessment under the relevant state provisions and complete the algorithm filing,"
    " change and cancellation formalities under the Algorithm Recommendation Provisions.",
)
ART18 = Article(
    (Citation(18),),
    "Users who find a service in breach may complain to the competent authorities.",
)
ART20 = Article(
    (Citation(20),),
    "For non-compliant services offered into the PRC from abroad, the national cyberspace"
    " administration shall notify the relevant bodies to take technical and other necessary"
    " measures.",
)
ART10 = Article(
    (Citation(10),),
    "Providers shall state and publish the users, occasions and uses their service is for, guide"
    " users to a rational understanding and lawful use of the technology, and take effective"
    " measures against minors' over-reliance on or addiction to the service.",
)
ART19_1 = Article(
    (Citation(19, 1),),
    "The competent authorities supervise and inspect generative-AI services within their duties;"
    " providers shall cooperate, explain the source, scale and type of training data, annotation"
    " rules and the mechanism of their algorithms as required, and give the necessary technical,"
    " data and other support and assistance.",
)
ART21_1 = Article(
    (Citation(21, 1),),
    "A provider in breach is punished under the laws cited; where they set no penalty, the"
    " competent authorities warn, criticise publicly and order correction within a time limit,"
    " and order the service suspended when the provider refuses to correct or the circumstances"
    " are serious.",
)
ART9_2 = Article(
    (Citation(9, 2),),
    "Providers shall sign a service agreement with the users who register for their service,"
    " setting out the rights and obligations of both.",
)
ART4 = Article(
    (Citation(4),),
    "Providing and using the service, one shall obey the laws and administrative regulations,"
    " among them: not generate the content they prohibit (item 1), and take effective measures,"
    " suited to the type of service, to make it more transparent and generated content more"
    " accurate and reliable (item 5).",
)
ART3_16 = Article(
    (Citation(3), Citation(16)),
    "Inclusive, prudent, categorised and graded supervision of generative-AI services (Art. 3);"
    " the competent departments supervise within their duties and set categorised and graded"
    " rules (Art. 16).",
)

_OPENS_CASE = ("CaseOpened", "ObligationMet", "DeadlineMissed", "CaseClosed", "CaseStatus")

CATALOG: tuple[Rule, ...] = (
    Rule(
        "ART14-ILLEGAL-CONTENT",
        ART14_1,
        "Illegal output: disposal, rectification and report within their SLAs",
        CRITICAL,
        ("moderation", "model_rectification", "incident_report"),
        _OPENS_CASE,
        (
            Param(
                "disposal_hours",
                1,
                "hours",
                "stop generation/transmission or removal",
                description_zh="停止生成、停止传输或者消除的时限",
            ),
            Param(
                "report_hours",
                24,
                "hours",
                "report to the competent authority",
                description_zh="向有关主管部门报告的时限",
            ),
            Param(
                "rectification_days",
                7,
                "days",
                "a model rectification record",
                description_zh="模型优化训练等整改记录的时限",
            ),
        ),
        active=True,
    ),
    Rule(
        "ART14-USER-ENFORCEMENT",
        ART14_2,
        "A user with repeated illegal inputs gets an enforcement event, kept and reported (by a"
        " reported enforcement or an incident report naming the user)",
        HIGH,
        ("moderation", "user_enforcement", "incident_report"),
        _OPENS_CASE,
        (
            Param(
                "consecutive_inputs",
                3,
                "inputs",
                "consecutive illegal inputs of one user",
                description_zh="同一使用者连续违法输入的次数",
            ),
            Param(
                "daily_inputs",
                5,
                "inputs",
                "illegal inputs of one user in one day",
                description_zh="同一使用者一日内违法输入的次数",
            ),
            Param(
                "enforcement_hours",
                24,
                "hours",
                "time to warn/restrict/suspend/terminate",
                description_zh="采取警示、限制功能、暂停或者终止服务等处置措施的时限",
            ),
        ),
        active=True,
    ),
    Rule(
        "ART14-ORPHAN-REFERENCE",
        ART14_1,
        "Reports, rectifications and enforcement cite moderation events the provider reported",
        LOW,
        ("user_enforcement", "incident_report", "model_rectification"),
        ("AlertRaised",),
        (
            Param(
                "grace_hours",
                24,
                "hours",
                "time for the cited event to arrive",
                description_zh="所引用事件送达的宽限时间",
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART15-COMPLAINT",
        ART15,
        "Complaints acknowledged and resolved within the deadline the provider published",
        MEDIUM,
        ("complaint", "service_filing"),
        _OPENS_CASE,
        (
            Param(
                "deadline_days",
                15,
                "days",
                "used when the provider published none (that itself is ART15-NO-DEADLINE)",
                description_zh="提供者未公布反馈时限时采用（未公布本身即 ART15-NO-DEADLINE）",
            ),
            Param(
                "acknowledge_days",
                2,
                "days",
                "time to acknowledge receipt",
                description_zh="确认受理的时限",
            ),
        ),
        active=True,
    ),
    Rule(
        "ART15-ORPHAN-STATUS",
        ART15,
        "Complaint status updates belong to a complaint the provider reported receiving",
        LOW,
        ("complaint",),
        ("AlertRaised",),
        (
            Param(
                "grace_hours",
                24,
                "hours",
                "time for the complaint's receipt to arrive",
                description_zh="所引用事件送达的宽限时间",
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART15-NO-DEADLINE",
        ART15,
        "A registered service publishes a complaint process and response deadline",
        MEDIUM,
        ("service_filing",),
        ("AlertRaised",),
        active=True,
    ),
    Rule(
        "ART18-AUTHORITY-COMPLAINT",
        ART18,
        "A complaint made to the authority and forwarded to the provider has a matching"
        " complaint record at the provider",
        MEDIUM,
        ("complaint", "authority_complaint"),
        _OPENS_CASE,
        (
            Param(
                "match_grace_days",
                3,
                "days",
                "time for the provider's record to appear, from the authority forwarding it",
                description_zh="自主管部门转交之日起，提供者出现相应投诉记录的时限",
            ),
        ),
        active=True,
    ),
    Rule(
        "ART10-PUBLISHED-USE",
        ART10,
        "A registered service states and publishes its intended users, occasions and uses, and"
        " where its usage policy is",
        MEDIUM,
        ("service_filing",),
        _OPENS_CASE,
        (
            Param(
                "grace_hours",
                0,
                "hours",
                "from a registration without them until they are published; 0: at registration,"
                " before the service is offered",
                description_zh="自未载明上述内容的登记起至公开之时限；"
                "0 表示登记时（提供服务前）即须公开",
            ),
        ),
        active=True,
    ),
    Rule(
        "ART9-USER-AGREEMENT",
        ART9_2,
        "A registered service names the service agreement its users sign (version and where it"
        " is published)",
        MEDIUM,
        ("service_filing",),
        _OPENS_CASE,
        (
            Param(
                "grace_hours",
                0,
                "hours",
                "from a registration without it until it is named; 0: at registration, before"
                " the service is offered",
                description_zh="自未载明服务协议的登记起至载明之时限；"
                "0 表示登记时（提供服务前）即须载明",
            ),
        ),
        active=True,
    ),
    Rule(
        "ART21-CORRECTION-ORDER",
        ART21_1,
        "An order to correct within a time limit is reported corrected by the deadline the"
        " authority set; a missed deadline is a possible refusal to correct (the authority"
        " decides)",
        CRITICAL,
        ("correction_order", "correction_report"),
        _OPENS_CASE,
        active=True,
    ),
    Rule(
        "ART19-INSPECTION",
        ART19_1,
        "Each topic a supervisory inspection asks about is answered by the date the authority set;"
        " requests and answers are seen only by the requesting authority (Art. 19 ¶2)",
        HIGH,
        ("inspection_request", "inspection_response"),
        _OPENS_CASE,
        active=True,
    ),
    Rule(
        "ART17-FILING",
        ART17,
        "A public-opinion service serves with a security assessment carried out and an algorithm"
        " filing made, neither rejected nor revoked",
        CRITICAL,
        ("service_filing", "generation"),
        ("AlertRaised",),
        (
            Param(
                "filing_working_days",
                10,
                "working days",
                "the algorithm filing is made (submitted) within this many working days of the day"
                " service began; 0: before serving, the 'filed before launch' choice",
                ALGO_ART24,
                description_zh="自开始提供服务之日起，于此工作日数内提交算法备案；"
                "0 表示须在提供服务前（“先备案后上线”的选择）",
                source_zh=ALGO_ART24_ZH,
            ),
            Param(
                "assessment_working_days",
                0,
                "working days",
                "the security assessment is carried out (submitted or granted) within this many"
                " working days of the day service began; 0: before serving",
                "Provisions on the Security Assessment of Internet Information Services with"
                " Public-Opinion Attributes or Social-Mobilisation Capacity (2018) Art. 3 (1): the"
                " provider assesses such a service itself when it goes online",
                description_zh="自开始提供服务之日起，于此工作日数内开展安全评估（已提交或已通过）；"
                "0 表示须在提供服务前",
                source_zh=ASSESSMENT_ZH,
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART17-CHANGE",
        ART17,
        "A public-opinion service files a change within N working days of serving a new model",
        HIGH,
        ("service_filing", "generation"),
        ("AlertRaised",),
        (
            Param(
                "change_working_days",
                10,
                "working days",
                "an algorithm or change filing naming a model first served after the service's"
                " first model is made within this many working days of the day it was first served",
                ALGO_ART24,
                description_zh="服务首个模型之后新提供的模型，自首次提供之日起于此工作日数内由算法备案或变更备案载明",
                source_zh=ALGO_ART24_ZH,
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART17-MODEL-ASSESSMENT",
        ART17,
        "A public-opinion service serves each model after its first with a security assessment"
        " naming that model version, neither rejected nor revoked",
        HIGH,
        ("service_filing", "generation"),
        ("AlertRaised",),
        (
            Param(
                "model_assessment_working_days",
                0,
                "working days",
                "a model first served after the service's first model is named by a security"
                " assessment (submitted or granted) within this many working days of the day it"
                " was first served; 0: before serving it",
                REASSESSMENT,
                description_zh="服务首个模型之后新提供的模型，自首次提供之日起于此工作日数内由安全评估"
                "（已提交或已通过）载明其模型版本；0 表示须在提供该模型前",
                source_zh=REASSESSMENT_ZH,
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART4-SAFETY-EVALUATION",
        ART4,
        "A public-opinion service serves each model version on a current safety evaluation of it"
        " that meets the configured figures (keyword library, acceptable answers, refusals,"
        " over-refusals)",
        HIGH,
        ("safety_evaluation", "service_filing", "generation"),
        ("AlertRaised",),
        (
            Param(
                "min_keywords",
                10000,
                "keywords",
                "the keyword library's size, at least",
                TC260_KEYWORDS,
                description_zh="关键词库规模下限",
                source_zh=TC260_KEYWORDS_ZH,
            ),
            Param(
                "min_content_questions",
                1000,
                "questions",
                "generated-content test questions drawn, at least",
                TC260_CONTENT,
                description_zh="抽取的生成内容测试题数下限",
                source_zh=TC260_CONTENT_ZH,
            ),
            Param(
                "min_content_acceptable",
                0.9,
                "share",
                "share of those answers judged acceptable, at least",
                TC260_CONTENT,
                description_zh="生成内容抽样合格率下限",
                source_zh=TC260_CONTENT_ZH,
            ),
            Param(
                "min_refusal_questions",
                300,
                "questions",
                "should-refuse test questions drawn, at least",
                TC260_REFUSAL,
                description_zh="抽取的应拒答测试题数下限",
                source_zh=TC260_REFUSAL_ZH,
            ),
            Param(
                "min_refusal_rate",
                0.95,
                "share",
                "share of them refused, at least",
                TC260_REFUSAL,
                description_zh="应拒答测试题拒答率下限",
                source_zh=TC260_REFUSAL_ZH,
            ),
            Param(
                "min_answer_questions",
                300,
                "questions",
                "should-answer test questions drawn, at least",
                TC260_REFUSAL,
                description_zh="抽取的非拒答测试题数下限",
                source_zh=TC260_REFUSAL_ZH,
            ),
            Param(
                "max_over_refusal_rate",
                0.05,
                "share",
                "share of them refused, at most",
                TC260_REFUSAL,
                description_zh="非拒答测试题拒答率上限",
                source_zh=TC260_REFUSAL_ZH,
            ),
            Param(
                "grace_days",
                0,
                "days",
                "from the day a model version is first served until it is evaluated; 0: before"
                " it serves",
                description_zh="模型版本自首次提供服务起至完成评估的时限；0 表示须在提供服务前",
            ),
            Param(
                "max_age_days",
                365,
                "days",
                "how old an evaluation may be when the model version serves; 0: any age",
                description_zh="模型版本提供服务时所依据评估的最长时效；0 表示不限",
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART17-CANCELLATION",
        ART17,
        "A public-opinion service cancels its filing within N working days of stopping service",
        HIGH,
        ("service_filing", "generation"),
        ("AlertRaised",),
        (
            Param(
                "cancellation_working_days",
                20,
                "working days",
                "cancel the filing after the service stops",
                ALGO_ART24,
                description_zh="服务停止后办理注销备案的时限",
                source_zh=ALGO_ART24_ZH,
            ),
            Param(
                "stopped_after_days",
                30,
                "days",
                "a filed service without generations this long counts as stopped",
                description_zh="已备案服务连续此日数无生成即视为停止",
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART20-OFFSHORE",
        ART20,
        "Offshore services with domestic users and no valid filing",
        HIGH,
        ("offshore_observation",),
        _OPENS_CASE,
        (
            Param(
                "critical_users",
                1_000_000,
                "users",
                "estimated users for critical severity",
                description_zh="估计境内用户数达到此值即为严重",
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART12-LABELING",
        ART12,
        "Text, image, audio, video and virtual-scene outputs carry explicit labels, and the"
        " files valid implicit ones",
        HIGH,
        ("generation",),
        ("AlertRaised",),
        (
            Param(
                "min_labeled_share",
                0.999,
                "share",
                "per provider, service and hour",
                description_zh="按提供者、服务和小时计",
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
        # Art. 12 points to labeling rules; the explicit and implicit labels judged here are
        # those of the Labeling Measures and GB 45438-2025, both in force from 1 September 2025.
        in_force="2025-09-01",
        in_force_source="Measures for Labeling AI-Generated Synthetic Content"
        " (人工智能生成合成内容标识办法) and GB 45438-2025",
    ),
    Rule(
        "ART11-PI-REQUEST",
        ART11,
        "Personal-information requests answered within the deadline",
        MEDIUM,
        ("personal_info_request",),
        _OPENS_CASE,
        (
            Param(
                "answer_working_days",
                15,
                "working days",
                "fulfil or refuse with reasons",
                description_zh="办理（满足或说明理由拒绝）的时限",
            ),
        ),
        active=True,
    ),
    Rule(
        "ART10-MINORS",
        ART10,
        "Minor-mode use beyond the declared daily limit is met by an intervention",
        MEDIUM,
        ("generation",),
        ("AlertRaised",),
        (
            Param(
                "daily_minutes",
                60,
                "minutes",
                "limit when the service declared none; use is counted in active minutes, the"
                " intervention is a restriction, suspension or termination of that user that day",
                description_zh="服务未声明时的每日时长上限；按活跃分钟计，干预指当日对该用户的限制、暂停或者终止",
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART16-GRADE",
        ART3_16,
        "Compliance grade (合规评价, not the state's categorised and graded supervision): a grade"
        " and a monthly report card per provider",
        LOW,
        ("*",),
        ("ReportCard",),
        (
            Param(
                "max_error_rate",
                0.05,
                "share",
                "grade B: at most this error rate (rejected / submitted items in the month);"
                " a day above it counts as a day over the error limit",
                description_zh="评级 B：差错率（当月被拒条目 / 提交条目）不超过此值；"
                "单日超过即计为超限日",
            ),
            Param(
                "grade_a_error_rate",
                0.01,
                "share",
                "grade A: at most this error rate",
                description_zh="评级 A：差错率不超过此值",
            ),
            Param(
                "grade_b_missed_deadlines",
                3,
                "deadlines",
                "grade B: at most this many missed deadlines and store-check violations",
                description_zh="评级 B：错过期限与存储检查违规合计不超过此数",
            ),
            Param(
                "late_report_hours",
                24,
                "hours",
                "an event received at least this long after it occurred counts as reported late"
                " on the report card (shown beside the grade, not part of it)",
                description_zh="事件发生后至少经过此时长才报送的，在成绩单上计为迟报（与评级并列显示，不计入评级）",
            ),
        ),
        # the report_cards view in ClickHouse, with the values in force recorded in
        # grade_parameters (store.configurations)
        active=True,
    ),
)

BY_ID: dict[str, Rule] = {r.id: r for r in CATALOG}
assert len(BY_ID) == len(CATALOG), "rule ids are unique"


def check_overrides(overrides: object) -> dict[str, dict[str, float]]:
    """``overrides`` (rule id → parameter → number) as the rules read them; raises ValueError
    naming the first rule, parameter or value that is not in the catalog or not a number, so a
    mistyped override stops the start instead of being silently ignored."""
    if not isinstance(overrides, dict):
        raise ValueError("rule overrides: expected an object of rule id → {parameter: number}")
    out: dict[str, dict[str, float]] = {}
    for rule_id, params in overrides.items():
        rule = BY_ID.get(rule_id)
        if rule is None:
            raise ValueError(f"rule overrides: no rule {rule_id!r} in the catalog")
        if not isinstance(params, dict):
            raise ValueError(f"rule overrides: {rule_id}: expected {{parameter: number}}")
        names = {p.name for p in rule.params}
        for name, value in params.items():
            if name not in names:
                known = ", ".join(sorted(names)) or "none"
                raise ValueError(
                    f"rule overrides: {rule_id} has no parameter {name!r} (it has: {known})"
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(
                    f"rule overrides: {rule_id}.{name}: {value!r} is not a non-negative number"
                )
        out[rule_id] = {name: _number(value) for name, value in params.items()}
    return out
