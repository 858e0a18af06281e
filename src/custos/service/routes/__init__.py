"""The /v1 routes, one module per audience: requesters' batches, officers' review and holds,
auditors' ledger and reports, administrators' keys, roster and pack."""
