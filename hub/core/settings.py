"""Settings: environment (HUB_ prefix), an optional config file, read once and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy import make_url

from hub.core.errors import BadUserInput


def _user_data_dir() -> Path:
    """The user's data folder for the hub: $XDG_DATA_HOME/staffing-hub (~/.local/share/staffing-hub)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "staffing-hub"


def _secret(configured: Path | None, variable: str, development: Path) -> str | None:
    """A secret read from its file: the configured one (which must exist and hold it: a secret mounted
    nowhere is an error, not a silent fallback), else the demo directory's, if there."""
    if configured is None:
        return development.read_text(encoding="utf-8").strip() if development.exists() else None
    try:
        secret = configured.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BadUserInput(f"{variable} 指向的文件不可读 / {variable}: cannot read {configured}: {exc.strerror}") from exc
    if not secret:
        raise BadUserInput(f"{variable} 指向的文件为空 / {variable}: {configured} is empty")
    return secret


class SourceSettings(BaseModel):
    """One department database: its SQLAlchemy URL, optionally its own mapping file and limits.

    `HUB_SOURCE_FINANCE_STATEMENT_TIMEOUT=30` overrides `HUB_STATEMENT_TIMEOUT` for finance alone. Any
    department id is accepted here (`HUB_SOURCE_<ID>_URL`, `HUB_SOURCE_<ID>_MAPPING` for a new one): which
    departments exist is what the mappings declare (hub.core.departments).
    """

    url: str | None = None
    mapping: Path | None = None
    statement_timeout: float | None = Field(default=None, gt=0)
    max_concurrent_reads: int | None = Field(default=None, gt=0)
    # The department grants writes: completed applications' changes are written through its adapter
    # (adapters/write.py); off, they wait as change events its own system pulls (changeEvents).
    writes: bool = False


class Settings(BaseSettings):
    """The hub's settings. `HUB_SOURCE_FINANCE_URL=...` sets `sources.finance.url`."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        env_nested_delimiter="_",
        env_nested_max_split=2,
        env_file=".env",
        extra="ignore",
        toml_file="hub.toml",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    # The demo's databases, manifest and jwt-secret; an absolute per-user folder, so every command
    # (`hub token create`, `hub serve` …) finds them from any working directory.
    demo_dir: Path = Field(default_factory=lambda: _user_data_dir() / "demo-data")
    store_url: str = "sqlite+aiosqlite:///var/hub.db"  # the hub's own database (PostgreSQL in production)
    source: dict[str, SourceSettings] = Field(default_factory=dict)
    connect_timeout: float = 3.0
    source_retry_seconds: float = 5.0  # after a source fails to connect or a statement times out, its reads fail at once for this long (0: never)
    # A read of a department database (waiting for its turn included) fails with SOURCE_UNAVAILABLE
    # after this many seconds; the database is told to stop it (statement_timeout, max_statement_time).
    statement_timeout: float = Field(default=10.0, gt=0)
    max_concurrent_reads: int = Field(default=8, gt=0)  # statements (and streams) at once per source; the others wait their turn
    ready_timeout: float = Field(default=2.0, gt=0)  # /readyz: seconds each source has to read one row of every mapped table
    max_page_size: int = 1000
    # Statistics answered under `aggregate`-only grants: cells counting fewer people are suppressed and
    # counts rounded to multiples of it (docs/statistics.md).
    min_group_size: int = Field(default=5, ge=1)
    # Teacher allocation (docs/statistics.md §Teacher allocation): students per staff member by school type
    # (the 2014 unified urban-rural standard), and the extra allowance, a fraction of the need, the league
    # sets for boarding and Mongolian-medium schools, recognized by a marker in their name.
    teacher_ratio_primary: float = Field(default=19.0, gt=0)
    teacher_ratio_junior: float = Field(default=13.5, gt=0)
    teacher_ratio_senior: float = Field(default=12.5, gt=0)
    teacher_ratio_complete: float = Field(default=13.0, gt=0)  # 完全中学: junior and senior high in one school
    boarding_allowance: float = Field(default=0.1, ge=0, le=1)
    mongolian_medium_allowance: float = Field(default=0.1, ge=0, le=1)
    boarding_markers: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["寄宿"])
    mongolian_medium_markers: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["蒙古族", "蒙授"])
    max_depth: int = 8
    crosswalk_ttl: float = 300.0
    graphiql: bool = True
    # The console's demo sign-in list (/console/demo-users hands out tokens): `hub demo` sets it, nothing else should.
    console_demo_users: bool = False
    max_concurrent_operations: int = 3  # GraphQL operations executing at once (0: no limit)
    gc_threshold: int = 50_000  # allocations between young-generation GC passes (0: Python's default)
    # Trusted documents (hub/trusted.py): "apq" runs any query and lets clients register theirs by hash (Apollo's
    # automatic persisted queries); "only" runs only documents registered with `hub documents add`; "off": no hashes.
    trusted_documents: Literal["off", "apq", "only"] = "apq"
    trusted_documents_cache_seconds: float = Field(default=10.0, ge=0)  # a replica sees documents added/removed within this
    # Prepared documents (parsed, validated, authorized, planned: schema/execution/prepared.py) kept, in estimated bytes.
    prepared_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    # Authentication: HS256 with a shared secret, or RS256/ES256 with a public key or a JWKS file.
    jwt_secret: str | None = None
    jwt_secret_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str = "staffing-hub"
    jwt_audience: str = "staffing-hub"
    policy_file: Path | None = None  # defaults to policies/policy.csv
    policy_source: Literal["file", "store"] = "file"  # "store": edited at run time, shared by replicas
    policy_poll_seconds: float = 2.0
    audit: bool = True  # audit reads of personal fields in the hub store
    # The audit chain's HMAC key (never in the store; the demo directory's `audit-key` in development).
    # Without a key the hub refuses to start while `audit` is on.
    audit_key: str | None = None
    audit_key_file: Path | None = None
    # Signed checkpoints of the chain's head, outside the store: default next to an SQLite store's file,
    # else var/audit-checkpoints.jsonl. One file per host; `hub audit verify --checkpoint` takes each.
    audit_checkpoint_file: Path | None = None
    # Seconds between deliveries of pending change events to the departments that grant writes
    # (hub/workflow/delivery.py; also run at startup and after each completed application); 0: never periodically.
    delivery_interval: float = Field(default=30.0, ge=0)
    check_interval: float = 0.0  # seconds between scheduled cross-checks; 0 disables (enable on one replica)
    check_delay: float = 60.0  # before the first scheduled check
    check_lookback_months: int = 12
    snapshot_interval: float = 0.0  # seconds between scheduled snapshots of the current month; 0 disables (one replica)
    export_page_rows: int = 1000  # rows an export asks its report for at a time (each page one operation)
    export_max_rows: int = 1_000_000  # rows an export writes at most (then stops, saying so in its last row)
    apikey_cache_seconds: float = 5.0  # a revoked key stops working within this time
    # Idempotent mutations (hub/store/idempotency.py): a key answers its retries for this long after first use,
    # then may be used afresh; a retry while the first request runs waits this long for its answer, then CONFLICT.
    idempotency_ttl_seconds: float = 86_400.0
    idempotency_wait_seconds: float = 30.0
    # Limits on what one request may make the hub hold (hub/transport.py, schema/execution/executor/limits.py).
    max_body_bytes: int = 1024 * 1024  # a larger request body is refused with HTTP 413, counted as it streams in
    max_query_chars: int = 20_000  # a longer query text is refused (QUERY_TOO_LARGE) before it is parsed
    max_string_chars: int = 1_000  # a longer String/ID argument or variable is refused (BAD_USER_INPUT)
    max_cost: int = 100_000  # estimated answer values an operation may ask for (QUERY_TOO_COMPLEX)
    role_max_cost: dict[str, int] = Field(default_factory=dict)  # per-role overrides, e.g. {"admin": 500000}
    max_answer_bytes: int = 32 * 1024 * 1024  # a larger answer is not sent (ANSWER_TOO_LARGE)
    # Operations (hub/metrics.py, README "Use it from your tools").
    metrics_token: str | None = None  # set: GET /metrics wants `Authorization: Bearer <token>`; unset: open
    # Browser origins allowed to call the hub, comma-separated (https://a.example,https://b.example); empty: no CORS.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # OpenTelemetry traces to this OTLP/HTTP endpoint (http://collector:4318/v1/traces); needs the `otel` extra.
    otlp_endpoint: str | None = None
    gzip_min_bytes: int = Field(default=1000, ge=0)  # answers this large or larger are gzipped when accepted (0: never)
    # Migrate the store when the app starts (one process only); off: the app refuses a store behind `hub db upgrade`.
    store_auto_upgrade: bool = False

    @field_validator("boarding_markers", "mongolian_medium_markers", mode="before")
    @classmethod
    def _markers(cls, value: object) -> object:
        """Comma-separated name markers."""
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """Comma-separated origins, each `*` or scheme://host[:port] without a path."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for origin in value if isinstance(value, list) else ():
            parsed = urlsplit(origin) if isinstance(origin, str) else None
            if origin != "*" and (parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc
                                  or parsed.path or parsed.query or parsed.fragment):
                raise ValueError(f"无效的来源 {origin!r}，应为 https://host[:port] / bad CORS origin, "
                                 "expected scheme://host[:port]")
        return value

    def jwt_shared_secret(self) -> str | None:
        """The HS256 secret: the setting, its file, or (development) the demo directory's secret."""
        if self.jwt_secret:
            return self.jwt_secret
        return _secret(self.jwt_secret_file, "HUB_JWT_SECRET_FILE", self.demo_dir / "jwt-secret")

    def audit_secret(self) -> bytes | None:
        """The audit key: the setting, its file, or (development) the demo directory's `audit-key`."""
        key = self.audit_key or _secret(self.audit_key_file, "HUB_AUDIT_KEY_FILE", self.demo_dir / "audit-key")
        if key and len(key) < 32:
            raise BadUserInput("审计密钥至少 32 个字符 / the audit key needs at least 32 characters")
        return key.encode() if key else None

    def audit_checkpoints(self) -> Path:
        """The file this process appends the audit chain's signed checkpoints to."""
        if self.audit_checkpoint_file is not None:
            return self.audit_checkpoint_file
        url = make_url(self.store_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).with_suffix(".audit-checkpoints.jsonl")
        return Path("var/audit-checkpoints.jsonl")

    def source_url(self, department: str) -> str | None:
        """The configured URL of a department's database, or None."""
        src = self.source.get(department)
        return src.url if src else None

    def source_writes(self, department: str) -> bool:
        """Whether a department grants writes (HUB_SOURCE_<ID>_WRITES; default off)."""
        src = self.source.get(department)
        return bool(src and src.writes)

    def source_statement_timeout(self, department: str) -> float:
        """A department's statement timeout: its own setting, else HUB_STATEMENT_TIMEOUT."""
        src = self.source.get(department)
        return src.statement_timeout if src and src.statement_timeout else self.statement_timeout

    def source_max_concurrent_reads(self, department: str) -> int:
        """A department's limit on reads at once: its own setting, else HUB_MAX_CONCURRENT_READS."""
        src = self.source.get(department)
        return src.max_concurrent_reads if src and src.max_concurrent_reads else self.max_concurrent_reads

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):  # type: ignore[no-untyped-def,override]
        from pydantic_settings import TomlConfigSettingsSource

        return (init_settings, env_settings, dotenv_settings, TomlConfigSettingsSource(settings_cls), file_secret_settings)
