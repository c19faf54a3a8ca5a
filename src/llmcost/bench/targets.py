"""Which endpoints a bench run talks to, what each costs, and where its key comes from."""

from __future__ import annotations

import os
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
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--endpoint must be an http(s) URL, got '{url}'")
    if api_key_env is not None and not api_key_env.replace("_", "a").isalnum():
        raise UsageError("--api-key-env takes the NAME of an environment variable, not a key")
    mid = catalog.resolve(model)
    price = catalog.model(mid) if mid else None
    return Target(mid or model, api, url, model, api_key_env, price)


def endpoint_targets(catalog: Catalog) -> list[Target]:
    """Every catalog model that has an endpoint (the default when no model is named)."""
    return catalog_targets(catalog, [m.id for m in catalog.models if m.endpoint is not None])


def read_keys(targets: list[Target], environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The API key of every target, from the environment variable it names. A missing one is an error,
    raised before any request is sent; the message names the variable, never a value."""
    env = os.environ if environ is None else environ
    keys: dict[str, str | None] = {}
    missing: dict[str, list[str]] = {}
    for t in targets:
        if t.api_key_env is None:
            keys[t.name] = None
            continue
        value = env.get(t.api_key_env, "")
        if not value.strip():
            missing.setdefault(t.api_key_env, []).append(t.name)
        keys[t.name] = value.strip() or None
    if missing:
        names = ", ".join(f"{var} (for {', '.join(models)})" for var, models in missing.items())
        plural = len(missing) > 1
        raise UsageError(f"API key not set: environment variable{'s' if plural else ''} {names} "
                         f"{'are' if plural else 'is'} empty or missing")
    return keys
