"""Typed settings, read once from the environment (prefix ``TENURE_``) and passed down."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that ship in examples and must never protect a production deployment.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})
DEVELOPMENT_SECRET = "development"


class Settings(BaseSettings):
    """Every setting Tenure reads. Documented in README.md (a test keeps them in sync)."""

    model_config = SettingsConfigDict(env_prefix="TENURE_", extra="ignore")

    env: Literal["development", "production"] = Field(
        "development", description="`production` refuses placeholder secrets."
    )
    database_url: str = Field(
        "sqlite:///tenure.db", description="SQLAlchemy URL: sqlite:///FILE or postgresql://..."
    )
    secret_key: str = Field(
        DEVELOPMENT_SECRET, description="Signs session cookies and CSRF tokens."
    )
    default_phone_region: str = Field(
        "US", description="ISO region used to read phone numbers written without +country."
    )
    default_currency: str = Field("USD", description="Currency of amounts given without one.")
    session_max_age_seconds: int = Field(
        14 * 24 * 3600, description="Lifetime of a web login session."
    )
    max_event_batch: int = Field(10_000, description="Largest batch POST /api/v1/events takes.")
    page_size_default: int = Field(50, description="Default page size of API lists.")
    page_size_max: int = Field(500, description="Largest page size of API lists.")

    @model_validator(mode="after")
    def _refuse_placeholder_secret_in_production(self) -> Settings:
        if self.env == "production" and (
            self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32
        ):
            raise ValueError(
                "TENURE_SECRET_KEY must be set to a random value of at least 32 characters "
                "when TENURE_ENV=production"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
