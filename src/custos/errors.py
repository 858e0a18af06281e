"""Exceptions custos raises on purpose.

    CustosError
    ├── BatchFileError      a request file that cannot be taken as a batch at all
    ├── PolicyError         a policy pack or roster that is invalid
    └── WorldError          a world folder that does not meet the data contract

A bad *row* is never an exception: it is a `MalformedRow` outcome. These are
for whole inputs that must be refused with one clear message; the CLI turns
each into that message and exit status 2.
"""


class CustosError(Exception):
    """Base of every error custos raises deliberately."""


class BatchFileError(CustosError):
    """The file is not a table, lacks required columns, or is too large."""


class PolicyError(CustosError):
    """The policy pack or roster is malformed or inconsistent."""


class WorldError(CustosError):
    """A world folder is missing a file or a column the contract requires."""
