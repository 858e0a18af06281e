"""custos: a statute-bound disclosure gateway for a data custodian."""

__version__ = "0.1.0"
