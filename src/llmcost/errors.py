"""The one exception tree of llmcost.

Core modules raise these with a message a user can act on; only ``llmcost.cli`` catches them,
prints one line to stderr and exits with code 2 (or 1 for a failed check).

    LlmcostError
    ├── InputError            a file the user gave us is unreadable or malformed (file, line, field)
    │   ├── CatalogError      a price catalog failed validation
    │   ├── ScenarioError     a scenario file failed validation
    │   ├── PolicyError       a budget policy failed validation
    │   └── SuiteError        a bench suite failed validation
    ├── UsageError            options that cannot work together, or a missing option
    ├── UnpricedModelError    --strict and some traffic has no price
    └── EndpointError         a bench endpoint failed (wraps httpx errors)
"""

from __future__ import annotations


class LlmcostError(Exception):
    """Base class of every error llmcost raises on purpose."""

    exit_code = 2


def locate(source: str, line: int | None = None, field: str | None = None) -> str:
    """Format a location as ``file:line: field``, leaving out what is unknown."""
    where = source
    if line is not None:
        where += f":{line}"
    if field:
        where += f": field '{field}'"
    return where


class InputError(LlmcostError):
    """A user-supplied file is unreadable or malformed."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None, field: str | None = None):
        self.source = source
        self.line = line
        self.field = field
        self.detail = message
        prefix = locate(source, line, field) if source else ""
        super().__init__(f"{prefix}: {message}" if prefix else message)


class CatalogError(InputError):
    """A price catalog failed validation."""


class ScenarioError(InputError):
    """A scenario file failed validation."""


class PolicyError(InputError):
    """A budget policy file failed validation."""


class SuiteError(InputError):
    """A bench suite file failed validation."""


class UsageError(LlmcostError):
    """The command line asks for something that cannot work."""


class UnpricedModelError(LlmcostError):
    """--strict was given and some traffic uses a model the catalog cannot price."""


class EndpointError(LlmcostError):
    """A bench endpoint could not be reached or answered badly."""
