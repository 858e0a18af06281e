"""The HTTP service: requesting agencies submit batches, auditors read the record.

Routes are thin; the work is done by custos.pipeline, custos.check,
custos.ledger and custos.report, exactly as on the command line.
"""

from custos.service.app import create_app, signing_key_settings

__all__ = ["create_app", "signing_key_settings"]
