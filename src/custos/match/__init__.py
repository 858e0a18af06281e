"""Cross-verification: link gated requests to the master file, then decide.

    prepare   standardised request and master tables (one row per taxpayer-address)
    training  train once, save the model as JSON with its sha256; load it back
    predict   score request × master-address pairs with the saved model (Splink)
    decide    deterministic checks, then threshold and margin → an `Outcome`

The usual sequence::

    master = standardize_master(world.taxpayers, world.addresses)
    requests = standardize_requests(requests_table(gated_requests))
    model = load_model(path)
    decisions = decide(link(requests, master, model), requests, master)
"""

from custos.match.decide import (
    Candidate,
    MatchDecision,
    MatchEvidence,
    Reason,
    Thresholds,
    decide,
    decide_request,
)
from custos.match.predict import link
from custos.match.prepare import (
    read_world,
    requests_table,
    standardize_master,
    standardize_requests,
)
from custos.match.training import LoadedModel, ModelFileError, ModelInfo, load_model, train

__all__ = [
    "Candidate",
    "LoadedModel",
    "MatchDecision",
    "MatchEvidence",
    "ModelFileError",
    "ModelInfo",
    "Reason",
    "Thresholds",
    "decide",
    "decide_request",
    "link",
    "load_model",
    "read_world",
    "requests_table",
    "standardize_master",
    "standardize_requests",
    "train",
]
