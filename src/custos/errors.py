"""Exceptions custos raises on purpose.

    CustosError
    ├── BatchFileError      a request file that cannot be taken as a batch at all
    ├── DecisionRefused     an officer's decision the rules do not allow (held, gate, block)
    ├── LedgerError         the ledger cannot append, sign or prove (not a verify fault)
    ├── PolicyError         a policy pack or roster that is invalid
    ├── StoreError          the operational store refuses an operation or cannot be opened
    └── WorldError          a world folder that does not meet the data contract

A bad *row* is never an exception: it is a `MalformedRow` outcome. These are
for whole inputs that must be refused with one clear message; the CLI turns
each into that message and exit status 2.
"""


class CustosError(Exception):
    """Base of every error custos raises deliberately."""


class BatchFileError(CustosError):
    """The file is not a table, lacks required columns, or is too large."""


class DecisionRefused(CustosError):
    """An officer asked for something the rules refuse: disclosing a held request,
    one that no longer passes the gate or whose taxpayer is blocked, or deciding
    an item someone else decided first. Nothing was changed.

    `code` is `already_decided` when someone else got there first, `not_found` when
    there is no such item, else `refused`.
    """

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


class PolicyError(CustosError):
    """The policy pack or roster is malformed or inconsistent."""


class WorldError(CustosError):
    """A world folder is missing a file or a column the contract requires."""


class LedgerError(CustosError):
    """An unknown event type, a clock going backwards, a missing signing key.

    Tampering found by `custos.ledger.verify` is *not* raised: it is reported
    as faults in the verification report, so every fault can be listed.
    """


class StoreError(CustosError):
    """The store cannot be opened or migrated, or refuses a conflicting write."""
