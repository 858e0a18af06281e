"""The service's own knobs, beside custos.config's store and key settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Rate limit per key, the largest upload, and when a failed batch may be retried."""

    rate_per_second: float = 20.0
    rate_burst: int = 40
    retry_failed_after_s: float = 300.0
    in_process_worker: bool = True
    max_upload_bytes: int = 512 * 1024 * 1024
