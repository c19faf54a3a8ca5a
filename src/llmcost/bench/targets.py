"""Which endpoints a bench run talks to, what each costs, and where its key comes from."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from llmcost.bench.wire import Api, Usage
from llmcost.catalog import Catalog, ModelPrice
from llmcost.errors import UsageError
from llmcost.pricing import TokenSums, cost_of


@dataclass(frozen=True)
class Target:
    """One model behind one endpoint. ``name`` is what results report (the catalog id when known)."""

    name: str
    api: Api
    base_url: str
    served_model: str
    api_key_env: str | None = None
    price: ModelPrice | None = None

    def cost(self, usage: Usage) -> Decimal | None:
        """Exact catalog cost of one request with ``usage``; None when the model or a needed rate is unpriced."""
        if self.price is None:
            return None
        lc = self.price.long_context
        long_context = lc is not None and usage.input_tokens > lc.threshold_tokens
        sums = TokenSums(1, usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens,
                         usage.cache_write_1h_tokens, usage.output_tokens, usage.reasoning_tokens)
        total, missing = cost_of(sums, self.price.rates_for(long_context=long_context, batch=False),
                                 self.price.request_fee)
        return None if missing else total

    def projected_cost(self, prompt_tokens: int, max_tokens: int) -> Decimal | None:
        """Upper bound for one request: the counted prompt plus ``max_tokens`` of output."""
        return self.cost(Usage(input_tokens=prompt_tokens, output_tokens=max_tokens))


def catalog_targets(catalog: Catalog, names: list[str]) -> list[Target]:
    """Catalog models named on the command line; each must resolve and have an ``endpoint``."""
    out: list[Target] = []
    for name in names:
        mid = catalog.resolve(name)
        if mid is None:
            raise UsageError(f"--models: '{name}' is not in the catalog")
        model = catalog.model(mid)
        if model.endpoint is None:
            raise UsageError(f"--models: '{mid}' has no 'endpoint' in the catalog; add one or use --endpoint")
        ep = model.endpoint
        out.append(Target(mid, ep.api, ep.base_url, ep.model or mid, ep.api_key_env, model))
    return out


def adhoc_target(catalog: Catalog, *, url: str, model: str, api: Api, api_key_env: str | None) -> Target:
    """``--endpoint URL --model NAME``: priced from the catalog when the name resolves there."""
    check_endpoint_url(url)
    if not model.strip():
        raise UsageError("--model is empty; give the model name the endpoint serves")
    check_api_key_env(api_key_env)
    mid = catalog.resolve(model)
    price = catalog.model(mid) if mid else None
    return Target(mid or model, api, url, model, api_key_env, price)


def check_endpoint_url(url: str) -> None:
    """An http(s) URL with a host and a valid port, checked before anything is sent (a malformed one used to
    fail inside the HTTP client with a traceback). The URL is shown without any user:password part."""
    from urllib.parse import urlsplit

    shown = re.sub(r"//[^/@]*@", "//***@", url)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"--endpoint is not a valid URL ({exc}): '{shown}'") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--endpoint must be an http(s) URL with a host, got '{shown}'")
    if port == 0 or any(c.isspace() or not c.isprintable() for c in url):
        raise UsageError(f"--endpoint is not a valid URL (a bad port, or whitespace or a control character): "
                         f"'{shown}'")


def endpoint_targets(catalog: Catalog) -> list[Target]:
    """Every catalog model that has an endpoint (the default when no model is named)."""
    return catalog_targets(catalog, [m.id for m in catalog.models if m.endpoint is not None])


def check_api_key_env(value: str | None) -> None:
    """Refuse an ``--api-key-env`` value that is not a variable name (a key pasted there), never echoing it."""
    if value is not None and not is_env_name(value):
        raise UsageError("--api-key-env takes the NAME of an environment variable (letters, digits and '_', "
                         "not starting with a digit), not a key; the value given is not shown")


def is_env_name(name: str) -> bool:
    """A portable environment variable name: ASCII letters, digits and '_', not starting with a digit."""
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None


def _shown_name(name: str) -> bool:
    """Whether an error may print this variable name. Keys are often valid names too (Groq's ``gsk_...``,
    hex keys), so only the upper-case convention is printed, and not with a long run of letters and digits."""
    upper = re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) is not None
    return upper and not any(len(part) >= 16 and any(c.isdigit() for c in part) for part in name.split("_"))


def _unusable(key: str) -> str | None:
    """What keeps ``key`` out of an HTTP header (a kind of character, never the character), or None."""
    if any(c in "\r\n" for c in key):
        return "a line break"
    if not key.isascii():
        return "a non-ASCII character"
    if any(c.isspace() for c in key):
        return "whitespace"
    if not key.isprintable():
        return "a control character"
    return None


def _named(groups: dict[str, list[str]]) -> str:
    """``VAR (for a, b)`` per variable, or one anonymous phrase for variables whose names are not shown."""
    shown = {var: models for var, models in groups.items() if _shown_name(var)}
    if len(shown) < len(groups):
        models = [m for var, ms in groups.items() if var not in shown for m in ms]
        return f"the environment variable named for {', '.join(models)}"
    plural = "s" if len(groups) > 1 else ""
    return f"environment variable{plural} " + ", ".join(f"{var} (for {', '.join(ms)})" for var, ms in groups.items())


_NOT_SHOWN = " (its name is not shown: it is not an upper-case variable name and could be a key)"


def read_keys(targets: list[Target], environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The API key of every target, from the environment variable it names. A missing key, or one no HTTP
    header can carry, is an error raised before any request is sent; the message shows no part of a key,
    and the variable's name only when it cannot be one (see ``_shown_name``)."""
    env = os.environ if environ is None else environ
    keys: dict[str, str | None] = {}
    missing: dict[str, list[str]] = {}
    unusable: dict[str, tuple[str, list[str]]] = {}
    for t in targets:
        var = t.api_key_env
        if var is None:
            keys[t.name] = None
            continue
        if not is_env_name(var):
            raise UsageError(f"the environment variable named for {t.name} is not a valid variable name "
                             "(it is not shown: it could be a key)")
        value = env.get(var, "").strip()
        why = _unusable(value)
        if not value:
            missing.setdefault(var, []).append(t.name)
        elif why is not None:
            unusable.setdefault(var, (why, []))[1].append(t.name)
        keys[t.name] = value or None
    if missing:
        hidden = not all(_shown_name(var) for var in missing)
        verb = "are" if len(missing) > 1 and not hidden else "is"
        raise UsageError(f"API key not set: {_named(missing)} {verb} empty or missing{_NOT_SHOWN if hidden else ''}")
    if unusable:
        var, (why, models) = next(iter(unusable.items()))
        raise UsageError(f"API key in {_named({var: models})} is not usable: it contains {why}; nothing was sent")
    return keys
