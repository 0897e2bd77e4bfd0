"""The rules catalog: every automated check, the article it enforces (quoted from the Measures,
with an English gloss), its severity, the events it reads, its parameters and what it emits.

Data, in one place. Where the law sets no number, the default is configuration and says so
(``source``). Quotes are the text of the Interim Measures as published (traditional characters in
the project's copy), checked against it by a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CRITICAL, HIGH, MEDIUM, LOW = "critical", "high", "medium", "low"
CONFIG = "configuration: the Measures set no number"


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: float
    unit: str
    description: str
    source: str = CONFIG


@dataclass(frozen=True, slots=True)
class Article:
    ref: str  # e.g. "Art. 14 ¶1"
    quote_zh: str
    gloss_en: str


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

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"rule {self.id} has no parameter {name!r}")


ART14_1 = Article(
    "Art. 14 ¶1",
    "提供者發現違法內容的,應當及時采取停止生成、停止傳輸、消除等處置措施,"
    "采取模型優化訓練等措施進行整改,并向有關主管部門報告。",
    "A provider that finds illegal content shall promptly stop generating it, stop transmitting"
    " it or remove it, rectify the model (e.g. by optimisation training), and report to the"
    " competent authorities.",
)
ART14_2 = Article(
    "Art. 14 ¶2",
    "提供者發現使用者利用生成式人工智能服務從事違法活動的,應當依法依約采取警示、限制功能",
    "A provider that finds a user engaged in illegal activity through the service shall warn,"
    " restrict, suspend or terminate service to that user, keep the records and report to the"
    " competent authorities.",
)
ART15 = Article(
    "Art. 15",
    "提供者應當建立健全投訴、舉報機制,設置便捷的投訴、舉報入口,公布處理流程和反饋時限,"
    "及時受理、處理公眾投訴舉報并反饋處理結果。",
    "Providers shall run a complaint and reporting mechanism with a convenient entry point,"
    " publish the process and the response deadline, and promptly accept, handle and answer"
    " complaints.",
)
ART11 = Article(
    "Art. 11 ¶2",
    "提供者應當依法及時受理和處理個人關于查閱、復制、更正、補充、刪除其個人信息等的請求。",
    "Providers shall promptly accept and handle requests from individuals to access, copy,"
    " correct, supplement or delete their personal information.",
)
ART12 = Article(
    "Art. 12",
    "提供者應當按照《互聯網信息服務深度合成管理規定》對圖片、視頻等生成內容進行標識。",
    "Providers shall label generated images, videos and other content under the Deep Synthesis"
    " Provisions (detailed by the Labeling Measures and GB 45438-2025).",
)
ART17 = Article(
    "Art. 17",
    "提供具有輿論屬性或者社會動員能力的生成式人工智能服務的,應當按照國家有關規定開展安全評估,"
    "并按照《互聯網信息服務算法推薦管理規定》履行算法備案和變更、注銷備案手續。",
    "A service with public-opinion attributes or social-mobilisation capacity must pass a security"
    " assessment and complete algorithm filing, change and cancellation formalities.",
)
ART18 = Article(
    "Art. 18",
    "使用者發現生成式人工智能服務不符合法律、行政法規和本辦法規定的,有權向有關主管部門投訴、舉報。",
    "Users who find a service in breach may complain to the competent authorities.",
)
ART20 = Article(
    "Art. 20",
    "對來源于中華人民共和國境外向境內提供生成式人工智能服務不符合法律、行政法規和本辦法規定的,"
    "國家網信部門應當通知有關機構采取技術措施和其他必要措施予以處置。",
    "For non-compliant services offered into the PRC from abroad, the CAC shall have the relevant"
    " bodies take technical and other necessary measures.",
)
ART10 = Article(
    "Art. 10",
    "采取有效措施防范未成年人用戶過度依賴或者沉迷生成式人工智能服務。",
    "Providers shall take effective measures against minors' over-reliance on or addiction to"
    " the service.",
)
ART3_16 = Article(
    "Art. 3 / Art. 16",
    "對生成式人工智能服務實行包容審慎和分類分級監管。",
    "Inclusive, prudent, categorised and graded supervision of generative-AI services.",
)

_OPENS_CASE = ("CaseOpened", "ObligationMet", "DeadlineMissed", "CaseClosed")

CATALOG: tuple[Rule, ...] = (
    Rule(
        "ART14-ILLEGAL-CONTENT",
        ART14_1,
        "Illegal output: disposal, rectification and report within their SLAs",
        CRITICAL,
        ("moderation", "model_rectification", "incident_report"),
        _OPENS_CASE,
        (
            Param("disposal_hours", 1, "hours", "stop generation/transmission or removal"),
            Param("report_hours", 24, "hours", "report to the competent authority"),
            Param("rectification_days", 7, "days", "a model rectification record"),
        ),
        active=True,
    ),
    Rule(
        "ART14-USER-ENFORCEMENT",
        ART14_2,
        "A user with repeated illegal inputs gets an enforcement event, kept and reported",
        HIGH,
        ("moderation", "user_enforcement"),
        _OPENS_CASE,
        (
            Param("consecutive_inputs", 3, "inputs", "consecutive illegal inputs of one user"),
            Param("daily_inputs", 5, "inputs", "illegal inputs of one user in one day"),
            Param("enforcement_hours", 24, "hours", "time to warn/restrict/suspend/terminate"),
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
        (Param("grace_hours", 24, "hours", "time for the cited event to arrive"),),
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
            ),
            Param("acknowledge_days", 2, "days", "time to acknowledge receipt"),
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
        (Param("grace_hours", 24, "hours", "time for the complaint's receipt to arrive"),),
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
        "A complaint made to the authority has a matching complaint record at the provider",
        MEDIUM,
        ("complaint", "authority_complaint"),
        _OPENS_CASE,
        (Param("match_grace_days", 3, "days", "time for the provider's record to appear"),),
        active=True,
    ),
    Rule(
        "ART17-FILING",
        ART17,
        "Public-opinion services hold a security assessment and algorithm filing before serving",
        CRITICAL,
        ("service_filing", "generation"),
        ("AlertRaised",),
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
                "file the change after a model-version change",
                "Algorithm Recommendation Provisions Art. 24",
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
                "Algorithm Recommendation Provisions Art. 24",
            ),
            Param(
                "stopped_after_days",
                30,
                "days",
                "a filed service without generations this long counts as stopped",
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
        (Param("critical_users", 1_000_000, "users", "estimated users for critical severity"),),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART12-LABELING",
        ART12,
        "Image, video and audio generations carry explicit and valid implicit labels",
        HIGH,
        ("generation",),
        ("AlertRaised",),
        (Param("min_labeled_share", 0.999, "share", "per provider, service and hour"),),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART11-PI-REQUEST",
        ART11,
        "Personal-information requests answered within the deadline",
        MEDIUM,
        ("personal_info_request",),
        _OPENS_CASE,
        (Param("answer_working_days", 15, "working days", "fulfil or refuse with reasons"),),
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
            ),
        ),
        active=True,  # a store check (jianguan.store.checks)
    ),
    Rule(
        "ART16-GRADE",
        ART3_16,
        "Graded supervision: a grade and a monthly report card per provider",
        LOW,
        ("*",),
        ("ReportCard",),
        (
            Param("max_error_rate", 0.05, "share", "rejected / submitted items per day"),
            Param("grade_a_error_rate", 0.01, "share", "grade A: at most this error rate"),
            Param("grade_b_missed_deadlines", 3, "deadlines", "grade B: at most this many"),
        ),
        active=True,  # the report_cards projection in ClickHouse
    ),
)

BY_ID: dict[str, Rule] = {r.id: r for r in CATALOG}
assert len(BY_ID) == len(CATALOG), "rule ids are unique"
