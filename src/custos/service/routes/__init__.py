"""The /v1 routes, one module per audience: requesters' batches, auditors' ledger and reports."""
