"""Valid ways to spread a model over N chips: independent replicas of a tensor, pipeline, data
and expert parallel group.

``num_chips = replicas x tp x pp x dp``. ``dp`` ranks serve their own sequences but share the
routed experts of a MoE model (expert parallel over attention-DP ranks, as vLLM/SGLang DP
attention + EP), so their tokens travel to the experts and back. ``replicas`` are independent
copies of the whole ``tp x pp x dp`` group with no traffic between them (several serving
instances behind one load balancer). For a dense model dp ranks share nothing, so dp and
replicas are the same layout; the chooser reports dense copies as ``dp``.

The validity rules (``RULES``) are written once as vectorized predicates: ``check`` explains the
first one a single layout breaks, ``valid_mask`` applies all of them to a sweep's arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chipwatch.perf.hardware import PerfInputError
from chipwatch.perf.models import ModelSpec

# Candidate degrees when the chooser picks a layout: the search is over these bounded sets, so
# it does not grow with the number of divisors of num_chips (num_chips = 50,400 has 108).
MAX_PP = 16  # pipeline stages tried
MAX_GROUP = 512  # chips of one model copy tried beyond the scale-up domain (wide EP)


@dataclass(frozen=True)
class Parallelism:
    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 1
    replicas: int = 1

    @property
    def group_chips(self) -> int:
        """Chips of one replica (one model copy): tp x pp x dp."""
        return self.tp * self.pp * self.dp

    @property
    def chips(self) -> int:
        return self.replicas * self.group_chips

    def as_dict(self) -> dict[str, int]:
        return {
            "tp": self.tp,
            "pp": self.pp,
            "dp": self.dp,
            "ep": self.ep,
            "replicas": self.replicas,
        }


@dataclass(frozen=True)
class ModelLimits:
    """What the rules need to know of a model (floats or arrays over models)."""

    heads: Any
    layers: Any
    experts: Any  # routed experts (0 = dense)

    @classmethod
    def of(cls, m: ModelSpec) -> ModelLimits:
        return cls(float(m.heads), float(m.layers), float(m.moe.experts if m.moe else 0))

    def take(self, idx: Any) -> ModelLimits:
        return ModelLimits(self.heads[idx], self.layers[idx], self.experts[idx])


Rule = tuple[str, Callable[..., Any], Callable[..., str]]

# (name, predicate(lim, tp, pp, dp, ep, rep, redundant, domain) -> bool array, message)
RULES: list[Rule] = [
    (
        "tp divides heads",
        lambda m, tp, pp, dp, ep, r, red, dom: np.mod(m.heads, tp) == 0,
        lambda m, tp, pp, dp, ep, r, red, dom: (
            f"tensor parallel {tp:g} does not divide the {m.heads:g} attention heads"
        ),
    ),
    (
        "pp within layers",
        lambda m, tp, pp, dp, ep, r, red, dom: pp <= m.layers,
        lambda m, tp, pp, dp, ep, r, red, dom: (
            f"pipeline parallel {pp:g} exceeds the {m.layers:g} layers"
        ),
    ),
    (
        "dense: ep 1",
        lambda m, tp, pp, dp, ep, r, red, dom: (m.experts > 0) | ((ep == 1) & (red == 0)),
        lambda m, tp, pp, dp, ep, r, red, dom: (
            f"the model is dense: expert parallel must be 1 and redundant experts 0, got "
            f"ep {ep:g}, redundant {red:g}"
        ),
    ),
    (
        "ep divides tp x dp",
        lambda m, tp, pp, dp, ep, r, red, dom: np.mod(tp * dp, ep) == 0,
        lambda m, tp, pp, dp, ep, r, red, dom: (
            f"expert parallel {ep:g} must divide the tp x dp = {tp * dp:g} chips of a stage"
        ),
    ),
    (
        "ep within expert slots",
        lambda m, tp, pp, dp, ep, r, red, dom: (m.experts == 0) | (ep <= m.experts + red),
        lambda m, tp, pp, dp, ep, r, red, dom: (
            f"expert parallel {ep:g} exceeds the {m.experts:g} experts + {red:g} redundant "
            "slots (every EP rank needs at least one expert slot)"
        ),
    ),
    (
        "tp within scale-up domain",
        lambda m, tp, pp, dp, ep, r, red, dom: tp <= dom,
        lambda m, tp, pp, dp, ep, r, red, dom: (
            f"tensor parallel {tp:g} spans more chips than one scale-up domain ({dom:g})"
        ),
    ),
]


def valid_mask(
    lim: ModelLimits,
    tp: Any,
    pp: Any,
    dp: Any,
    ep: Any,
    replicas: Any = 1.0,
    redundant: Any = 0.0,
    domain: Any = 1e9,
) -> Any:
    """All rules at once over broadcastable arrays (the sweep's filter)."""
    ok = np.asarray(True)
    for _, pred, _ in RULES:
        ok = ok & pred(lim, tp, pp, dp, ep, replicas, redundant, domain)
    return ok


def check(
    model: ModelSpec,
    par: Parallelism,
    num_chips: int,
    domain_chips: int | None = None,
    redundant: int = 0,
) -> None:
    """Raise :class:`PerfInputError` with a clear reason if ``par`` cannot run ``model``."""
    for name in ("tp", "pp", "dp", "ep", "replicas"):
        if getattr(par, name) < 1:
            raise PerfInputError(f"{name} must be >= 1, got {getattr(par, name)}")
    if redundant < 0:
        raise PerfInputError(f"redundant experts must be >= 0, got {redundant}")
    if par.chips != num_chips:
        raise PerfInputError(
            f"replicas x tp x pp x dp = {par.replicas} x {par.tp} x {par.pp} x {par.dp} = "
            f"{par.chips} does not equal num_chips = {num_chips}"
        )
    lim = ModelLimits.of(model)
    args = (
        lim,
        float(par.tp),
        float(par.pp),
        float(par.dp),
        float(par.ep),
        float(par.replicas),
        float(redundant),
        float(domain_chips or 1e9),
    )
    for _, pred, msg in RULES:
        if not bool(pred(*args)):
            raise PerfInputError(f"{msg(*args)} ({model.id})")


def divisors(n: int) -> list[int]:
    """Divisors of ``n`` in O(sqrt n)."""
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _degrees(n: int, cap: int) -> list[int]:
    """Divisors of ``n`` that are powers of two up to ``cap``, plus ``n`` itself when <= cap:
    a bounded set whatever the divisor count of ``n``."""
    out = {1}
    x = 2
    while x <= min(n, cap):
        if n % x == 0:
            out.add(x)
        x *= 2
    if n <= cap:
        out.add(n)
    return sorted(out)


def candidates(
    model: ModelSpec,
    num_chips: int,
    domain_chips: int | None = None,
    tp: int | None = None,
    pp: int | None = None,
    dp: int | None = None,
    ep: int | None = None,
    replicas: int | None = None,
    redundant: int = 0,
) -> list[Parallelism]:
    """Valid layouts for ``num_chips`` that agree with the degrees given.

    Chosen degrees come from bounded sets: tp from the divisors of the head count within one
    scale-up domain, pp from powers of two up to ``MAX_PP``, the group (tp x pp x dp) from
    powers of two and the domain size up to ``MAX_GROUP`` (the rest are replicas), ep from
    {1, dp, tp x dp} (no expert parallel, experts split by TP within each DP rank, one EP rank
    per chip). Dense models: dp ranks exchange nothing, so (dp, replicas) = (d r, 1) and (d, r)
    are the same layout; unless dp or replicas is fixed, only replicas = 1 is listed.
    """
    dom = domain_chips or num_chips
    tps = [tp] if tp else [t for t in divisors(model.heads) if t <= dom and num_chips % t == 0]
    out: list[Parallelism] = []
    seen: set[Parallelism] = set()
    for t in tps:
        if num_chips % t:
            continue
        pps = [pp] if pp else [p for p in _degrees(num_chips // t, MAX_PP) if p <= model.layers]
        for p in pps:
            if num_chips % (t * p):
                continue
            rest = num_chips // (t * p)  # dp x replicas
            if dp is not None:
                dps = [dp]
            elif replicas is not None:
                dps = [rest // replicas] if rest % replicas == 0 else []
            elif not model.moe:
                dps = [rest]
            else:
                cap = max(MAX_GROUP // (t * p), 1)
                dps = sorted(
                    set(_degrees(rest, cap))
                    | ({dom // t} if rest % max(dom // t, 1) == 0 else set())
                )
            for d in dps:
                if d < 1 or rest % d:
                    continue
                r = rest // d
                if replicas is not None and r != replicas:
                    continue
                if not model.moe and r > 1 and replicas is None and dp is None:
                    continue
                eps = [ep] if ep else ([1, d, t * d] if model.moe else [1])
                for e in sorted(set(eps)):
                    par = Parallelism(t, p, d, e, r)
                    if par in seen:
                        continue
                    try:
                        check(model, par, num_chips, domain_chips, redundant)
                    except PerfInputError:
                        continue
                    seen.add(par)
                    out.append(par)
    return out
