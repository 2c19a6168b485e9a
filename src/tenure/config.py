"""Typed settings, read once from the environment (prefix ``TENURE_``) and passed down."""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache
from typing import Literal

from croniter import croniter
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that ship in examples and must never protect a production deployment.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Every setting Tenure reads. Documented in README.md (a test keeps them in sync)."""

    model_config = SettingsConfigDict(env_prefix="TENURE_", extra="ignore")

    env: Literal["development", "production"] = Field(
        "development", description="`production` refuses placeholder secrets."
    )
    database_url: str = Field(
        "sqlite:///tenure.db", description="SQLAlchemy URL: sqlite:///FILE or postgresql://..."
    )
    secret_key: str | None = Field(
        None,
        description="Signs session cookies and CSRF tokens. Unset: the random key that "
        "`tenure init` stores in the database, shared by every process.",
    )
    default_phone_region: str = Field(
        "US", description="ISO region used to read phone numbers written without +country."
    )
    default_currency: str = Field("USD", description="Currency of amounts given without one.")
    session_max_age_seconds: int = Field(
        14 * 24 * 3600, description="Lifetime of a web login session."
    )
    statement_timeout_seconds: float = Field(
        1800,
        ge=0,
        description="PostgreSQL: longest one SQL statement may run before it is cancelled "
        "with an error (0: no limit); bounds background work such as scores refresh.",
    )
    sqlite_busy_timeout_seconds: float = Field(
        30,
        ge=0,
        description="SQLite: how long a write waits for another writer to finish before "
        "the request is answered 503 with Retry-After.",
    )
    max_event_batch: int = Field(
        10_000, ge=1, description="Largest batch POST /api/v1/events takes, in events."
    )
    max_batch_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest body POST /api/v1/events takes, in bytes."
    )
    max_event_bytes: int = Field(
        64 * 1024, ge=256, description="Largest event (payload and line items), in bytes."
    )
    max_upload_bytes: int = Field(
        100 * 1024 * 1024, ge=1024, description="Largest import upload, in bytes."
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest body of any other request, in bytes."
    )
    event_earliest: date = Field(
        date(1900, 1, 1), description="Events that occurred before this date are rejected."
    )
    event_future_days: int = Field(
        1, ge=0, description="Events may occur at most this many days after now."
    )
    page_size_default: int = Field(50, description="Default page size of API lists.")
    page_size_max: int = Field(500, description="Largest page size of API lists.")
    clv_annual_discount_rate: float = Field(
        0.10, ge=0, lt=10, description="Annual rate that discounts predicted CLV (0.10 = 10%)."
    )
    clv_margin: float = Field(
        0.30, ge=0, le=1, description="Gross-margin share of revenue counted in CLV (0.30 = 30%)."
    )
    churn_inactivity_days: int = Field(
        180,
        ge=7,
        description="Without a churn event type: a customer with no order in this many days "
        "has churned. Also the horizon of the churn prediction.",
    )
    churn_event_type: str | None = Field(
        None,
        description="Event type that marks a churn where the business has one "
        "(e.g. `cancellation`); unset means churn by inactivity.",
    )
    churn_training_rows: int = Field(
        4_000,
        ge=100,
        description="The churn model is selected, cross-validated and calibrated on at most "
        "this many customers (a stratified, seeded sample of those active at the cutoff), "
        "then applies to every customer.",
    )
    embedded_worker: bool = Field(
        True,
        description="`tenure serve` runs a job worker in its own process (set false when "
        "`tenure worker` processes run the jobs).",
    )
    worker_concurrency: int = Field(
        2, ge=1, le=64, description="Jobs one worker (embedded or `tenure worker`) runs at once."
    )
    web_threads: int = Field(
        16,
        ge=1,
        le=256,
        description="Threads one server process runs request handlers on (their database "
        "work); its connection pool is sized to fit them and the embedded worker.",
    )
    jobs_lease_seconds: int = Field(
        60,
        ge=1,
        description="A running job's lease; a worker renews it every third of it, and a job "
        "whose worker died is picked up by another worker once it expires.",
    )
    jobs_poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle worker looks for due jobs and schedules."
    )
    nightly_schedule: str = Field(
        "0 3 * * *",
        description="Cron expression (UTC) of the nightly chain: scores, stages, segments, "
        "retention, next-best-action rules.",
    )
    job_log_days: int = Field(
        14,
        ge=1,
        description="Succeeded and cancelled jobs finished more than this many days ago are "
        "deleted by the daily jobs.prune job.",
    )
    job_dead_days: int = Field(
        90,
        ge=1,
        description="Dead jobs (out of attempts, never retried) finished more than this many "
        "days ago are deleted by the daily jobs.prune job: failures are kept longer.",
    )

    webhook_allow_private_addresses: bool = Field(
        False,
        description="Let webhook URLs point to loopback, private or reserved addresses "
        "(a receiver on this machine or network). Off: such URLs are refused (SSRF).",
    )
    webhook_disable_after_failures: int = Field(
        10,
        ge=1,
        description="A webhook endpoint is disabled, with a notice, after this many "
        "deliveries in a row failed (each after all its retries).",
    )
    webhook_timeout_seconds: float = Field(
        10, gt=0, le=120, description="How long one webhook POST may take before it is retried."
    )
    webhook_log_days: int = Field(
        30,
        ge=1,
        description="Webhook deliveries and attempts older than this many days are deleted "
        "by the daily webhooks.prune_log job.",
    )

    # Messaging (email over SMTP): see README "Email".
    public_url: str = Field(
        "http://localhost:8000",
        description="Address people reach Tenure at; the base of unsubscribe, open and click "
        "links in emails.",
    )
    email_delivery: Literal["smtp", "capture"] = Field(
        "smtp",
        description="`smtp` hands each email to the SMTP server; `capture` composes it and "
        "records it as sent without handing it to any server (a demo or a trial: no one "
        "is emailed; `make run` sets it).",
    )
    smtp_host: str = Field("localhost", description="SMTP server that relays Tenure's email.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="`starttls` (upgrade after connecting, port 587), `tls` (implicit TLS, "
        "port 465) or `none` (plain, a relay on localhost only).",
    )
    smtp_ca_file: str | None = Field(
        None,
        description="CA bundle (PEM) that signs the SMTP server's certificate, for a relay "
        "with a private CA (unset: the system's certificate store).",
    )
    smtp_user: str | None = Field(None, description="SMTP login (unset: no authentication).")
    smtp_password: str | None = Field(None, description="SMTP password of `smtp_user`.")
    smtp_timeout_seconds: float = Field(
        30, gt=0, description="Longest wait for the SMTP server to answer one command."
    )
    mail_from: str = Field(
        "Tenure <tenure@localhost>",
        description="From address of every email (also the envelope sender for bounces).",
    )
    mail_reply_to: str | None = Field(None, description="Reply-To address of every email.")
    send_limit_per_minute: int = Field(
        600, ge=0, description="Most emails sent in any minute (0: no limit); more are deferred."
    )
    send_limit_per_hour: int = Field(
        20_000, ge=0, description="Most emails sent in any hour (0: no limit); more are deferred."
    )
    fatigue_max_marketing: int = Field(
        3,
        ge=0,
        description="Most marketing emails one person gets per fatigue window (0: no limit); "
        "transactional email is exempt.",
    )
    fatigue_window_days: int = Field(7, ge=1, description="Length of the fatigue window, in days.")
    quiet_hours_start: time | None = Field(
        time(21, 0),
        description="Start of the quiet hours (HH:MM, the person's local time) during which "
        "marketing email waits; unset: no quiet hours.",
    )
    quiet_hours_end: time | None = Field(
        time(8, 0), description="End of the quiet hours (HH:MM, the person's local time)."
    )

    @field_validator("nightly_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (e.g. '0 3 * * *')")
        return value

    @field_validator("quiet_hours_start", "quiet_hours_end", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # TENURE_QUIET_HOURS_START= (empty) turns quiet hours off, as documented.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def secret_key_is_weak(self) -> bool:
        """A key was given but is a known placeholder or too short to resist guessing."""
        key = self.secret_key
        return key is not None and (
            key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH
        )

    @model_validator(mode="after")
    def _refuse_placeholder_secret_in_production(self) -> Settings:
        if self.env == "production" and self.secret_key_is_weak:
            raise ValueError(
                f"TENURE_SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} "
                "characters when TENURE_ENV=production (or unset, to use the random key "
                "`tenure init` stores in the database)"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
