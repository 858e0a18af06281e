"""The service's own knobs, beside custos.config's store and key settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Rate limits (per key; failed authentications per client address), the largest
    upload, and when a failed batch may be retried."""

    rate_per_second: float = 20.0
    rate_burst: int = 40
    auth_failures_per_second: float = 0.5
    auth_failure_burst: int = 30
    retry_failed_after_s: float = 300.0
    in_process_worker: bool = True
    max_upload_bytes: int = 512 * 1024 * 1024
