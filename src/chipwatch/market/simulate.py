"""Vectorized Monte Carlo of a market scenario: demand by buyer segment met by five channels,
yearly flows, cumulative stocks, shares.

Named steps, each over all draws at once (NumPy arrays of shape (draws, years)):

1. :func:`draw_inputs`: every uncertain input from one uniform number per input and draw; the
   uniform of an input depends only on (seed, input name), so two scenarios run with the same
   seed share draws for the inputs they have in common (paired comparisons).
2. :func:`segment_demand`: each buyer segment's new demand (US$) = total demand x its share.
3. :func:`foreign_offer`: what each foreign product can sell to each segment per year (supply
   cap x the share of the year both gates are open, :mod:`chipwatch.market.gates`) and the
   US-side levy share weighted by the months it sells.
4. Year by year (stocks carry over): :func:`domestic_supply` (minimum of each domestic product's
   limits: die bank + wafers x yield, HBM stockpile drawdown + new HBM, packaging, reported
   capacity); :func:`meet_demand` (each segment's demand = new + carried deferred demand;
   domestic supply rationed in proportion to demand, then each segment spends what is left on
   the channels it may use, in order; a scarcity price response; the rest deferred);
   :func:`draw_down_stocks`.
5. :func:`metric_draws`: the demand identity, shares of sales and of demand, stocks.

The identity demand = domestic + licensed + grey + offshore + deferred holds in every draw by
construction (tested), and spending never exceeds demand.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from chipwatch.market.allocate import allocate, price_performance_order
from chipwatch.market.distributions import Dist, series_at, series_ppf
from chipwatch.market.gates import policy_events
from chipwatch.market.loading import load_scenario
from chipwatch.market.scenario import CHANNELS, Scenario, Segment
from chipwatch.market.serving import tokens_per_s_per_chip
from chipwatch.workspace import Workspace, resolve

if TYPE_CHECKING:
    import pandas as pd

# Epoch AI's H100-equivalent: a chip's dense 8-bit OP/s divided by the H100 SXM's 1,979e12
# (epoch-research/ai-chip-counts, pipeline/chip_schema.py, H100_OPS).
H100_OPS_8BIT = 1979e12
PERCENTILES = (10, 50, 90)
MAX_DRAWS = 100_000
IDENTITY = (*CHANNELS, "deferred")  # demand = the sum of these, in every draw


# --- static per-product facts ----------------------------------------------------------------
@dataclass
class Product:
    id: str
    kind: str  # "domestic", "foreign" or "grey"
    vendor: str
    vendor_country: str
    chips: list[str]  # chip per simulated year
    bf16_flops: np.ndarray  # FLOP/s per unit, per year of shipment (nan = unknown)
    h100e: np.ndarray
    mem_bw_tbs: np.ndarray
    tokens_per_s: np.ndarray


@dataclass
class Compiled:
    scenario: Scenario
    years: list[int]
    products: list[Product]  # domestic and licensed foreign products (legal sales)
    inputs: dict[str, Dist | dict[int, Dist]]
    us_gate: dict[str, np.ndarray]  # foreign product -> 0/1 per month
    notes: list[str]
    segments: dict[str, Segment] = field(default_factory=dict)
    grey: Product | None = None

    @property
    def availability(self) -> dict[str, np.ndarray]:
        """The US gate per foreign product and month (0/1)."""
        return self.us_gate


DEFAULT_SEGMENT = Segment(
    title="All buyers",
    share={2000: Dist(value=1, source="default: one segment holds all demand")},
    source="default: the scenario names no buyer segments",
)


def chip_facts(
    chip_id: str, workload: Any, *, ws: Workspace | None = None
) -> tuple[float, float, float, float, list[str]]:
    """(bf16 FLOP/s, H100e, memory TB/s, tokens/s) per unit of a chip; nan where unknown."""
    ws = resolve(ws)
    acc = ws.catalog.chip(chip_id)
    notes = []
    bf16 = acc.dense("bf16")
    eight = max((v for v in (acc.dense("fp8"), acc.dense("int8")) if v is not None), default=None)
    if bf16 is None:
        notes.append(f"{chip_id}: no dense BF16 figure in the catalog; its FLOP/s are left blank")
    if eight is None:
        notes.append(f"{chip_id}: no dense 8-bit figure; its H100-equivalents are left blank")
    bw = acc.memory.bandwidth_tbs.value if acc.memory.bandwidth_tbs else None
    tps, why = tokens_per_s_per_chip(acc.id, workload, ws=ws)
    if why:
        notes.append(f"served tokens: {why}")
    nan = float("nan")
    return (
        bf16 * 1e12 if bf16 else nan,
        eight * 1e12 / H100_OPS_8BIT if eight else nan,
        bw if bw else nan,
        tps if tps is not None else nan,
        notes,
    )


def _mix_at(mix: dict[int, Any], year: int) -> Any:
    past = [y for y in sorted(mix) if y <= year]
    return mix[past[-1] if past else min(mix)]


DOMESTIC_INPUTS = (
    "price_usd",
    "capacity_units",
    "die_bank_dies",
    "wafers_per_year",
    "wafer_share",
    "dies_per_wafer",
    "die_yield",
    "packaging_survival",
    "hbm_stacks_stock",
    "hbm_stacks_per_year",
    "hbm_drawdown_max",
    "packaging_units_per_year",
)


def compile_scenario(s: Scenario, *, ws: Workspace | None = None) -> Compiled:
    """Resolve chips, specs, the US gate and the list of uncertain inputs (no sampling), with
    the workspace's catalog, rulebook and performance model."""
    from chipwatch.market.gates import us_gate

    ws = resolve(ws)
    catalog = ws.catalog

    years = s.years
    notes: list[str] = list(s.notes)
    inputs: dict[str, Dist | dict[int, Dist]] = {
        "demand_usd": s.demand_usd,
        "retirement_years": s.retirement_years,
    }
    segments = dict(s.segments) or {"all": DEFAULT_SEGMENT}
    for sid, seg in segments.items():
        if s.segments:
            inputs[f"segment.{sid}.share"] = seg.share
    if s.demand_carryover is not None:
        inputs["demand_carryover"] = s.demand_carryover
    if s.price_elasticity is not None:
        inputs["price_elasticity"] = s.price_elasticity
    if s.price_markup_max is not None:
        inputs["price_markup_max"] = s.price_markup_max
    for node_id, node in s.foundry.items():
        inputs[f"foundry.{node_id}.wafers_per_year"] = node.wafers_per_year
        if node.die_yield is not None:
            inputs[f"foundry.{node_id}.yield"] = node.die_yield
    for mid, measure in s.prc_measures.items():
        inputs[f"prc.{mid}.uptake"] = measure.uptake
        absent = [p for p in measure.products if p != "*" and p not in s.foreign]
        if absent:
            notes.append(
                f"prc_measures.{mid} names product(s) not in this scenario: {', '.join(absent)}"
            )
    products: list[Product] = []

    def facts(
        pid: str, kind: str, chips: list[str], vendor: str | None = None, country: str | None = None
    ) -> Product:
        per = [chip_facts(c, s.reference_workload, ws=ws) for c in chips]
        for f in per:
            notes.extend(n for n in f[4] if n not in notes)
        acc = catalog.chip(chips[-1])
        return Product(
            pid,
            kind,
            vendor or acc.vendor,
            country or acc.vendor_country,
            chips,
            *(np.array([f[i] for f in per]) for i in range(4)),
        )

    for pid, dp in s.domestic.items():
        chips = [catalog.chip(_mix_at(dp.mix, y).chip).id for y in years]
        products.append(facts(pid, "domestic", chips, dp.vendor, dp.vendor_country))
        for y, m in sorted(dp.mix.items()):
            if m.proxy_for:
                note = (
                    f"{pid}: per-unit figures of {m.proxy_for} (from {y}) are those of the"
                    f" catalog chip {m.chip}, a stand-in ({m.proxy_source})"
                )
                notes.append(note)
        for name in DOMESTIC_INPUTS:
            v = getattr(dp, name)
            if v is not None:
                inputs[f"domestic.{pid}.{'yield' if name == 'die_yield' else name}"] = v
        for y, m in dp.mix.items():
            inputs[f"domestic.{pid}.mix.{y}.dies_per_package"] = m.dies_per_package
            inputs[f"domestic.{pid}.mix.{y}.hbm_stacks_per_package"] = m.hbm_stacks_per_package

    gates: dict[str, np.ndarray] = {}
    for pid, fp in s.foreign.items():
        chip = catalog.chip(s.foreign_chip(pid))
        products.append(facts(pid, "foreign", [chip.id] * len(years)))
        inputs[f"foreign.{pid}.supply_cap_units"] = fp.supply_cap_units
        inputs[f"foreign.{pid}.price_usd"] = fp.price_usd or {years[0]: catalog_price(chip)}
        for i, t in enumerate(fp.terms):
            inputs[f"foreign.{pid}.terms[{i}].share"] = t.share
        for i, w in enumerate(fp.windows):
            if w.uptake is not None:
                inputs[f"foreign.{pid}.windows[{i}].uptake"] = w.uptake
        gate, why = us_gate(s, pid, chip.id, years, ws=ws)
        notes.extend(n for n in why if n not in notes)
        gates[pid] = gate
    grey = None
    if s.grey is not None:
        chips = [catalog.chip(_mix_at(s.grey.chips, y)).id for y in years]
        grey = facts("grey", "grey", chips)
        inputs["grey.units"] = s.grey.units
        inputs["grey.price_usd"] = s.grey.price_usd
        inputs["grey.price_premium"] = s.grey.price_premium
    if s.offshore is not None:
        inputs["offshore.spend_usd"] = s.offshore.spend_usd
        inputs["offshore.usd_per_h100e_year"] = s.offshore.usd_per_h100e_year
    return Compiled(s, years, products, inputs, gates, notes, segments, grey)


def catalog_price(acc: Any) -> Dist:
    """A chip's catalog price as a distribution (triangular low/value/high when given)."""
    p = acc.price_usd
    if p is None:
        raise ValueError(f"{acc.id}: no price in the scenario or the catalog; add price_usd")
    src = f"catalog {acc.id}.price_usd: {acc.cite(p.source)}"
    if p.low is not None and p.high is not None and p.low < p.high:
        return Dist(
            dist="triangular",
            low=p.low,
            mode=p.value,
            high=p.high,
            source=src,
            unverified=p.unverified,
        )
    return Dist(dist="point", value=p.value, source=src, unverified=p.unverified)


# --- sampling --------------------------------------------------------------------------------
def uniforms(names: list[str], draws: int, seed: int) -> dict[str, np.ndarray]:
    """One uniform per input and draw; an input's stream depends only on (seed, its name)."""
    return {n: np.random.default_rng([seed, zlib.crc32(n.encode())]).random(draws) for n in names}


def sample(spec: Dist | dict[int, Dist], u: np.ndarray, years: list[int]) -> np.ndarray:
    """(draws,) for a scalar input, (draws, years) for a yearly series."""
    if isinstance(spec, Dist):
        return spec.ppf(u)
    return series_ppf(spec, years, u)


def draw_inputs(c: Compiled, u: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Step 1: every input's values for the uniforms ``u``."""
    return {name: sample(spec, u[name], c.years) for name, spec in c.inputs.items()}


# --- the simulation --------------------------------------------------------------------------
@dataclass
class Draws:
    """Raw per-draw arrays, shape (draws, years) unless noted."""

    units: dict[str, np.ndarray]
    revenue_usd: dict[str, np.ndarray]
    levy_usd: dict[str, np.ndarray]
    demand_usd: np.ndarray  # new + carried, all segments
    retirement_years: np.ndarray  # (draws,)
    met_usd: dict[str, np.ndarray] = field(default_factory=dict)  # channel -> spend (+ deferred)
    segment_demand_usd: dict[str, np.ndarray] = field(default_factory=dict)
    segment_met_usd: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    new_demand_usd: np.ndarray | None = None
    carried_usd: np.ndarray | None = None
    grey_units: np.ndarray | None = None
    offshore_h100e: np.ndarray | None = None
    scarcity_markup: np.ndarray | None = None
    limits: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    binding: dict[str, np.ndarray] = field(default_factory=dict)  # int codes into limit_names
    limit_names: dict[str, list[str]] = field(default_factory=dict)
    sellable: dict[str, np.ndarray] = field(default_factory=dict)  # foreign: cap x gates


def segment_demand(c: Compiled, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Step 2: each segment's new demand (US$, draws x years); shares are normalised draw by
    draw so the segments always add up to the total."""
    total = x["demand_usd"]
    if not c.scenario.segments:
        return {sid: total for sid in c.segments}
    shares = {sid: x[f"segment.{sid}.share"] for sid in c.segments}
    norm = sum(shares.values())
    return {
        sid: total * np.divide(sh, norm, out=np.zeros_like(sh), where=norm > 0)
        for sid, sh in shares.items()
    }


def foreign_offer(
    c: Compiled, x: dict[str, np.ndarray], draws: int
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Step 3: units each foreign product can sell to each segment per year (cap x share of the
    year both gates are open) and the US-side levy share, weighted by the months it sells."""
    from chipwatch.market.gates import prc_factor, terms_share, weighted_yearly, yearly

    s, years, n = c.scenario, c.years, len(c.years)
    offer: dict[str, dict[str, np.ndarray]] = {}
    levy: dict[str, np.ndarray] = {}
    for pid in s.foreign:
        cap = x[f"foreign.{pid}.supply_cap_units"]
        offer[pid] = {}
        open_any = np.zeros((draws, 12 * n))
        for sid in c.segments:
            monthly = c.us_gate[pid][None, :] * prc_factor(s, pid, sid, years, x, draws)
            offer[pid][sid] = cap * yearly(monthly, n)
            open_any = np.maximum(open_any, monthly)
        levy[pid] = weighted_yearly(terms_share(s, pid, years, x, draws), open_any, n)
    return offer, levy


@dataclass
class Stocks:
    """What carries from one year to the next: die banks, HBM stockpiles, deferred demand."""

    bank: dict[str, np.ndarray]
    hbm: dict[str, np.ndarray]
    deferred: dict[str, np.ndarray]


def _limit_names(c: Compiled) -> dict[str, list[str]]:
    names = {}
    for pid, dp in c.scenario.domestic.items():
        names[pid] = [
            n
            for n, present in (
                ("capacity", dp.capacity_units is not None),
                (
                    "logic_dies",
                    dp.die_bank_dies is not None
                    or dp.wafers_per_year is not None
                    or dp.node is not None,
                ),
                ("hbm", dp.hbm_stacks_stock is not None),
                ("packaging", dp.packaging_units_per_year is not None),
            )
            if present
        ] + ["demand"]
    return names


def domestic_supply(
    c: Compiled,
    x: dict[str, np.ndarray],
    st: Stocks,
    j: int,
    limits: dict[str, dict[str, np.ndarray]],
    binding: dict[str, np.ndarray],
    names: dict[str, list[str]],
) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, ...]]]:
    """Step 4a: each domestic product's supply in year index ``j`` = the minimum of its limits;
    also the recipe (dies and stacks per package, survival, new dies and stacks, HBM usable this
    year) used to draw stocks down afterwards."""
    s, year = c.scenario, c.years[j]
    draws = len(x["retirement_years"])
    cap: dict[str, np.ndarray] = {}
    recipe: dict[str, tuple[np.ndarray, ...]] = {}
    for pid, dp in s.domestic.items():
        key = f"domestic.{pid}"
        step_year = max([y for y in dp.mix if y <= year], default=min(dp.mix))
        dpp = x[f"{key}.mix.{step_year}.dies_per_package"]
        spp = x[f"{key}.mix.{step_year}.hbm_stacks_per_package"]
        survive = x.get(f"{key}.packaging_survival", np.ones(draws))
        if dp.node is not None:
            wafers = x[f"foundry.{dp.node}.wafers_per_year"][:, j] * x[f"{key}.wafer_share"][:, j]
        elif dp.wafers_per_year is not None:
            wafers = x[f"{key}.wafers_per_year"][:, j]
        else:
            wafers = np.zeros(draws)
        good = x.get(f"{key}.yield", x.get(f"foundry.{dp.node}.yield"))
        new_dies = (
            wafers * x[f"{key}.dies_per_wafer"] * good[:, j]
            if dp.dies_per_wafer is not None and good is not None
            else np.zeros(draws)
        )
        new_hbm = (
            x[f"{key}.hbm_stacks_per_year"][:, j] if dp.hbm_stacks_per_year else np.zeros(draws)
        )
        drawdown = x[f"{key}.hbm_drawdown_max"][:, j] if dp.hbm_drawdown_max else np.ones(draws)
        usable_hbm = st.hbm[pid] * drawdown  # the rest of the stockpile is carried over
        lim = limits[pid]
        if "capacity" in lim:  # between its first and last anchors, unless it is the only limit
            span = sorted(dp.capacity_units or {})
            inside = len(lim) == 1 or span[0] <= year <= span[-1]
            lim["capacity"][:, j] = x[f"{key}.capacity_units"][:, j] if inside else np.inf
        if "logic_dies" in lim:  # packages = good dies x packaging survival / dies per package
            lim["logic_dies"][:, j] = _per(st.bank[pid] + new_dies, dpp) * survive
        if "hbm" in lim:  # packages = HBM stacks x packaging survival / stacks per package
            lim["hbm"][:, j] = _per(usable_hbm + new_hbm, spp) * survive
        if "packaging" in lim:
            lim["packaging"][:, j] = x[f"{key}.packaging_units_per_year"][:, j]
        stack = np.stack([lim[n][:, j] for n in names[pid][:-1]], axis=1)
        cap[pid] = stack.min(axis=1)
        binding[pid][:, j] = stack.argmin(axis=1)
        recipe[pid] = (dpp, spp, survive, new_dies, new_hbm)
    return cap, recipe


def draw_down_stocks(
    c: Compiled, st: Stocks, sold: dict[str, np.ndarray], recipe: dict[str, tuple[np.ndarray, ...]]
) -> None:
    """Step 4c: die banks and HBM stockpiles lose what was made for sale (new output first)."""
    for pid in c.scenario.domestic:
        dpp, spp, survive, new_dies, new_hbm = recipe[pid]
        made = np.divide(sold[pid], survive, out=np.zeros_like(survive), where=survive > 0)
        st.bank[pid] = np.maximum(st.bank[pid] - np.maximum(made * dpp - new_dies, 0.0), 0.0)
        st.hbm[pid] = np.maximum(st.hbm[pid] - np.maximum(made * spp - new_hbm, 0.0), 0.0)


def channel_order(c: Compiled, j: int, allowed: Sequence[str], ordered: bool = False) -> list[str]:
    """The order in which a segment turns to what is on offer in year index ``j``: legal
    purchases first (domestic products first under ``domestic_first``, else every legal product
    by H100-equivalents per dollar), then the grey market and offshore rental by cost per
    H100-equivalent-year at central values. With ``ordered``, the channels go in the order
    ``allowed`` lists them (products within a channel as above)."""
    legal = allocation_order(c, j)
    by_channel = {
        "domestic": [p for p in legal if p in c.scenario.domestic],
        "licensed": [p for p in legal if p in c.scenario.foreign],
    }
    extra: list[tuple[float, str]] = []
    life = c.scenario.retirement_years.central()
    if "grey" in allowed and c.grey is not None and c.scenario.grey is not None:
        g = c.scenario.grey
        price = series_at(g.price_usd, c.years[j]).central() * g.price_premium.central()
        h = float(c.grey.h100e[j])
        extra.append((price / h / life if h > 0 else np.inf, "grey"))
    if "offshore" in allowed and c.scenario.offshore is not None:
        extra.append((c.scenario.offshore.usd_per_h100e_year.central(), "offshore"))
    if ordered:
        present = {name for _, name in extra}
        return [
            k
            for ch in allowed
            for k in (by_channel.get(ch, []) if ch in by_channel else [ch] if ch in present else [])
        ]
    mine = [p for p in legal if any(p in by_channel[ch] for ch in allowed if ch in by_channel)]
    return mine + [name for _, name in sorted(extra)]


def scarcity_response(
    left_usd: np.ndarray,
    domestic_usd: np.ndarray,
    elasticity: np.ndarray | None,
    markup_max: np.ndarray | None = None,
) -> np.ndarray:
    """Extra spending on domestic chips when demand outruns supply at list prices.

    With constant-elasticity demand q(p) = q0 (p/p0)^-e, buyers who still want domestic chips
    worth ``left_usd`` at list price bid the price of the ``domestic_usd`` sold up by
    m = (1 + left/domestic)^(1/e), at most ``markup_max`` (what buyers were seen to pay for
    scarce chips); the extra spending domestic x (m - 1) is capped by the budget left (so
    spending never exceeds demand)."""
    if elasticity is None:
        return np.zeros_like(left_usd)
    with np.errstate(over="ignore"):  # a huge multiple is capped just below
        ratio = np.divide(
            left_usd, domestic_usd, out=np.zeros_like(left_usd), where=domestic_usd > 0
        )
        m = (1.0 + ratio) ** (1.0 / elasticity)
    if markup_max is not None:
        m = np.minimum(m, markup_max)
    return np.minimum(domestic_usd * (m - 1.0), left_usd)


def spend_in_order(
    c: Compiled,
    j: int,
    sid: str,
    budget: np.ndarray,
    offer: dict[str, np.ndarray],
    price: dict[str, np.ndarray],
    domestic_only: bool = False,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One segment's budget spent on what is on offer, in its order (allocate.py): units bought
    per offer and the budget left."""
    seg = c.segments[sid]
    order = [k for k in channel_order(c, j, seg.channels, seg.ordered) if k in offer]
    if domestic_only:
        order = [k for k in order if k in c.scenario.domestic]
    if not order:
        return {}, budget.copy()
    sold, left = allocate(
        budget,
        np.stack([offer[k] for k in order], axis=1),
        np.stack([price[k] for k in order], axis=1),
    )
    return {k: sold[:, i] for i, k in enumerate(order)}, left


@dataclass
class SegmentYear:
    """How one segment's demand was met in one year (arrays over draws)."""

    units: dict[str, np.ndarray]  # per product, "grey" (units) and "offshore" (H100e-years)
    spend: dict[str, np.ndarray]  # US$, domestic including the scarcity markup
    markup: np.ndarray  # US$ of the scarcity markup
    deferred: np.ndarray  # US$


def meet_demand(
    c: Compiled,
    j: int,
    demand: dict[str, np.ndarray],
    supply: dict[str, np.ndarray],
    segment_offer: dict[str, dict[str, np.ndarray]],
    price: dict[str, np.ndarray],
    elasticity: np.ndarray | None,
    markup_max: np.ndarray | None = None,
) -> dict[str, SegmentYear]:
    """Step 4b: every segment's demand in year ``j`` (``supply`` is drawn down in place).

    1. Under ``domestic_first``, domestic supply is rationed across the segments in proportion
       to their demand (no segment is served first by accident of order);
    2. each segment then spends what it has left on everything on offer to it, in its order
       (domestic left over, licensed imports within the gates, grey market, offshore rental);
    3. demand still unmet bids domestic prices up (:func:`scarcity_response`); the rest is
       deferred.
    """
    dom = list(c.scenario.domestic)
    total = sum(demand.values(), np.zeros_like(next(iter(demand.values()))))
    quota = {k: supply[k].copy() for k in dom}
    budget = {sid: d.copy() for sid, d in demand.items()}
    bought: dict[str, dict[str, np.ndarray]] = {sid: {} for sid in demand}

    def take(sid: str, got: dict[str, np.ndarray]) -> None:
        for k, q in got.items():
            supply[k] = np.maximum(supply[k] - q, 0.0)
            bought[sid][k] = bought[sid].get(k, 0.0) + q

    # round 1 (domestic_first): domestic quotas in proportion to the demand of the segments that
    # turn to domestic chips first
    first = {
        sid: d
        for sid, d in demand.items()
        if c.scenario.allocation == "domestic_first"
        and "domestic" in c.segments[sid].channels
        and (not c.segments[sid].ordered or c.segments[sid].channels[0] == "domestic")
    }
    share_of = sum(first.values(), np.zeros_like(total))
    for sid, d in first.items():
        w = np.divide(d, share_of, out=np.zeros_like(d), where=share_of > 0)
        offer = {k: np.minimum(supply[k], quota[k] * w) for k in dom}
        got, budget[sid] = spend_in_order(c, j, sid, budget[sid], offer, price, True)
        take(sid, got)
    out = {}
    for sid in demand:  # round 2: whatever is left, in the segment's order
        offer = {
            k: np.minimum(v, segment_offer[k][sid]) if k in segment_offer else v
            for k, v in supply.items()
        }
        got, budget[sid] = spend_in_order(c, j, sid, budget[sid], offer, price)
        take(sid, got)
        units = bought[sid]
        spend = {k: q * price[k] for k, q in units.items()}
        dom_usd = sum((spend[k] for k in units if k in c.scenario.domestic), np.zeros_like(total))
        extra = scarcity_response(budget[sid], dom_usd, elasticity, markup_max)
        for k in units:  # the markup is shared pro rata to list-price spending
            if k in c.scenario.domestic:
                spend[k] = spend[k] + extra * np.divide(
                    spend[k], dom_usd, out=np.zeros_like(dom_usd), where=dom_usd > 0
                )
        out[sid] = SegmentYear(units, spend, extra, budget[sid] - extra)
    return out


def _channel_of(c: Compiled, key: str) -> str:
    if key in c.scenario.domestic:
        return "domestic"
    if key in c.scenario.foreign:
        return "licensed"
    return key  # "grey", "offshore"


@dataclass
class Ledger:
    """Per-draw, per-year accounts filled year by year (arrays of shape (draws, years))."""

    units: dict[str, np.ndarray]
    revenue: dict[str, np.ndarray]
    met: dict[str, np.ndarray]  # channel (and "deferred") -> US$
    seg_demand: dict[str, np.ndarray]
    seg_met: dict[str, dict[str, np.ndarray]]
    carried: np.ndarray
    markup_usd: np.ndarray
    list_usd: np.ndarray
    grey_units: np.ndarray
    offshore_h100e: np.ndarray

    @classmethod
    def empty(cls, c: Compiled, draws: int) -> Ledger:
        def z() -> np.ndarray:
            return np.zeros((draws, len(c.years)))

        return cls(
            units={p.id: z() for p in c.products},
            revenue={p.id: z() for p in c.products},
            met={ch: z() for ch in IDENTITY},
            seg_demand={sid: z() for sid in c.segments},
            seg_met={sid: {ch: z() for ch in IDENTITY} for sid in c.segments},
            carried=z(),
            markup_usd=z(),
            list_usd=z(),
            grey_units=z(),
            offshore_h100e=z(),
        )

    def record(
        self,
        c: Compiled,
        j: int,
        sid: str,
        m: SegmentYear,
        demand: np.ndarray,
        carried_in: np.ndarray,
    ) -> None:
        """Book one segment's year: spending by channel, units by product, what was deferred."""
        for k, q in m.units.items():
            ch = _channel_of(c, k)
            self.met[ch][:, j] += m.spend[k]
            self.seg_met[sid][ch][:, j] += m.spend[k]
            if k in self.units:
                self.units[k][:, j] += q
                self.revenue[k][:, j] += m.spend[k]
            elif k == "grey":
                self.grey_units[:, j] += q
            else:
                self.offshore_h100e[:, j] += q
        self.met["deferred"][:, j] += m.deferred
        self.seg_met[sid]["deferred"][:, j] = m.deferred
        self.seg_demand[sid][:, j] = demand
        self.carried[:, j] += carried_in
        self.markup_usd[:, j] += m.markup
        dom = sum((m.spend[k] for k in m.units if k in c.scenario.domestic), np.zeros_like(demand))
        self.list_usd[:, j] += dom - m.markup


def on_offer(
    c: Compiled,
    x: dict[str, np.ndarray],
    j: int,
    domestic: dict[str, np.ndarray],
    foreign: dict[str, np.ndarray],
    grey_price: np.ndarray | None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """What is on offer in year ``j`` (units; offshore rental in H100e-years) and its price;
    ``foreign``: each foreign product's units on offer to the segment that can buy the most."""
    s = c.scenario
    units = dict(domestic)
    price = {p.id: x[f"{p.kind}.{p.id}.price_usd"][:, j] for p in c.products}
    for pid in s.foreign:
        units[pid] = foreign[pid][:, j]
    if grey_price is not None:
        units["grey"], price["grey"] = x["grey.units"][:, j], grey_price[:, j]
    if s.offshore is not None:
        rent = x["offshore.usd_per_h100e_year"]
        units["offshore"], price["offshore"] = x["offshore.spend_usd"][:, j] / rent, rent
    return units, price


def simulate(c: Compiled, u: dict[str, np.ndarray]) -> Draws:
    """Run the model for the uniforms ``u`` (one array of draws per input name): the named
    steps of the module docstring, year by year where stocks and deferred demand carry over."""
    s = c.scenario
    x = draw_inputs(c, u)
    draws, n_years = len(x["retirement_years"]), len(c.years)
    new = segment_demand(c, x)
    offer, levy_share = foreign_offer(c, x, draws)
    sellable = {pid: np.maximum.reduce(list(o.values())) for pid, o in offer.items()}
    carry = x.get("demand_carryover", np.zeros(draws))
    grey_price = (
        x["grey.price_usd"] * x["grey.price_premium"][:, None] if c.grey is not None else None
    )
    names = _limit_names(c)
    limits = {pid: {n: np.zeros((draws, n_years)) for n in names[pid][:-1]} for pid in s.domestic}
    binding = {pid: np.zeros((draws, n_years), dtype=np.int8) for pid in s.domestic}
    st = Stocks(
        bank={p: x.get(f"domestic.{p}.die_bank_dies", np.zeros(draws)).copy() for p in s.domestic},
        hbm={
            p: x.get(f"domestic.{p}.hbm_stacks_stock", np.zeros(draws)).copy() for p in s.domestic
        },
        deferred={sid: np.zeros(draws) for sid in c.segments},
    )
    book = Ledger.empty(c, draws)
    for j in range(n_years):
        cap, recipe = domestic_supply(c, x, st, j, limits, binding, names)
        supply, price = on_offer(c, x, j, cap, sellable, grey_price)
        carried_in = {sid: carry * st.deferred[sid] for sid in c.segments}
        demand = {sid: new[sid][:, j] + carried_in[sid] for sid in c.segments}
        seg_offer = {pid: {sid: o[:, j] for sid, o in offer[pid].items()} for pid in s.foreign}
        met_by = meet_demand(
            c, j, demand, supply, seg_offer, price,
            x.get("price_elasticity"), x.get("price_markup_max"),
        )  # fmt: skip
        for sid, m in met_by.items():
            book.record(c, j, sid, m, demand[sid], carried_in[sid])
            st.deferred[sid] = m.deferred
        for pid in s.domestic:  # where output stayed below supply, demand (not supply) binds
            short = book.units[pid][:, j] < cap[pid] * (1 - 1e-9) - 1e-9
            binding[pid][short, j] = len(names[pid]) - 1
        draw_down_stocks(c, st, {pid: book.units[pid][:, j] for pid in s.domestic}, recipe)

    zeros = np.zeros((draws, n_years))
    return Draws(
        units=book.units,
        revenue_usd=book.revenue,
        levy_usd={
            pid: book.revenue[pid] * levy_share[pid] for pid in s.foreign if s.foreign[pid].terms
        },
        demand_usd=sum(book.seg_demand.values(), zeros.copy()),
        retirement_years=x["retirement_years"],
        met_usd=book.met,
        segment_demand_usd=book.seg_demand,
        segment_met_usd=book.seg_met,
        new_demand_usd=sum(new.values(), zeros.copy()) if s.segments else x["demand_usd"],
        carried_usd=book.carried,
        grey_units=book.grey_units if c.grey is not None else None,
        offshore_h100e=book.offshore_h100e if s.offshore is not None else None,
        scarcity_markup=1.0
        + np.divide(
            book.markup_usd, book.list_usd, out=np.zeros_like(zeros), where=book.list_usd > 0
        ),
        limits=limits,
        binding=binding,
        limit_names=names,
        sellable=sellable,
    )


def _per(amount: np.ndarray, per_package: np.ndarray) -> np.ndarray:
    """amount / per_package, with no limit (inf) where a package needs none."""
    return np.divide(amount, per_package, out=np.full_like(amount, np.inf), where=per_package > 0)


def allocation_order(c: Compiled, j: int) -> list[str]:
    """Legal product ids in the order buyers turn to them in year index ``j`` (allocate.py)."""
    s = c.scenario
    year = c.years[j]
    h100e = {p.id: float(p.h100e[j]) for p in c.products}
    price = {}
    for p in c.products:
        spec = c.inputs[f"{p.kind}.{p.id}.price_usd"]
        price[p.id] = (spec if isinstance(spec, Dist) else series_at(spec, year)).central()
    if s.allocation == "price_performance":
        return price_performance_order(h100e, price, [p.id for p in c.products])
    return list(s.domestic) + price_performance_order(h100e, price, list(s.foreign))


# --- from draws to tables --------------------------------------------------------------------
def installed(flows: np.ndarray, retirement_years: np.ndarray) -> np.ndarray:
    """Stock at the end of each year from yearly flows: a unit shipped in year t counts in year y
    with weight clip(R - (y - t), 0, 1), so it serves R years (fractional R pro rata)."""
    n = flows.shape[1]
    age = np.arange(n)[:, None] - np.arange(n)[None, :]  # (y, t)
    w = np.clip(retirement_years[:, None, None] - age[None], 0.0, 1.0) * (age >= 0)[None]
    return np.einsum("dt,dyt->dy", flows, w)


def _spec_flow(units: np.ndarray, per_unit: np.ndarray) -> np.ndarray:
    """units x per-unit spec by shipment year; blank (nan) only where units ship with no spec."""
    spec = np.broadcast_to(per_unit, units.shape)
    return np.where(units > 0, units * np.where(np.isnan(spec), np.nan, spec), 0.0)


Key = tuple[str, str, str]  # (metric, level, group)


def metric_draws(c: Compiled, d: Draws) -> dict[Key, np.ndarray]:
    """Every reported metric as draws x years arrays, keyed by (metric, level, group)."""
    out: dict[Key, np.ndarray] = {}
    by = {p.id: p for p in c.products}
    levels = {
        "product": {p.id: [p.id] for p in c.products},
        "vendor": _groups(c.products, "vendor"),
        "vendor_country": _groups(c.products, "vendor_country"),
        "total": {"total": [p.id for p in c.products]},
    }
    stock_specs = {
        "stock_bf16_flops": "bf16_flops",
        "stock_h100e": "h100e",
        "stock_mem_bw_tbs": "mem_bw_tbs",
        "served_tokens_per_s": "tokens_per_s",
    }
    per_product: dict[str, dict[str, np.ndarray]] = {}
    for pid, p in by.items():
        m = {
            "units": d.units[pid],
            "revenue_usd": d.revenue_usd[pid],
            "installed_units": installed(d.units[pid], d.retirement_years),
        }
        for metric, attr in stock_specs.items():
            m[metric] = installed(_spec_flow(d.units[pid], getattr(p, attr)), d.retirement_years)
        m["added_h100e"] = _spec_flow(d.units[pid], p.h100e)
        m["added_bf16_flops"] = _spec_flow(d.units[pid], p.bf16_flops)
        if pid in d.levy_usd:
            m["levy_usd"] = d.levy_usd[pid]
        per_product[pid] = m
    summed = [
        "units",
        "revenue_usd",
        "installed_units",
        "added_h100e",
        "added_bf16_flops",
        *stock_specs,
    ]
    for level, groups in levels.items():
        for g, members in groups.items():
            for metric in summed:
                out[(metric, level, g)] = sum(per_product[pid][metric] for pid in members)  # type: ignore[assignment]
            levies = [
                per_product[pid]["levy_usd"] for pid in members if "levy_usd" in per_product[pid]
            ]
            if levies:
                out[("levy_usd", level, g)] = sum(levies)  # type: ignore[assignment]
    with np.errstate(invalid="ignore", divide="ignore"):
        for level in ("product", "vendor", "vendor_country"):
            for g in levels[level]:
                out[("share_units", level, g)] = (
                    out[("units", level, g)] / out[("units", "total", "total")]
                )
                out[("share_revenue", level, g)] = (
                    out[("revenue_usd", level, g)] / out[("revenue_usd", "total", "total")]
                )
        home = c.scenario.market
        for metric, base in (
            ("domestic_share_units", "units"),
            ("domestic_share_revenue", "revenue_usd"),
            ("domestic_share_stock_h100e", "stock_h100e"),
        ):
            dom = out.get((base, "vendor_country", home))
            tot = out[(base, "total", "total")]
            out[(metric, "total", "total")] = (dom / tot) if dom is not None else np.zeros_like(tot)
        out[("domestic_share", "total", "total")] = out[
            ("domestic_share_revenue", "total", "total")
        ]
    demand_identity(c, d, out)
    for pid, lim in d.limits.items():
        for name, arr in lim.items():
            out[("supply_limit_units", "limit", f"{pid}:{name}")] = arr
        stack = np.stack(list(lim.values()), axis=0)
        out[("supply_units", "product", pid)] = stack.min(axis=0)
    for pid, arr in d.sellable.items():
        out[("supply_units", "product", pid)] = arr
    return out


def demand_identity(c: Compiled, d: Draws, out: dict[Key, np.ndarray]) -> None:
    """Step 5: demand and how it was met (level ``channel``: domestic, licensed, grey, offshore,
    deferred), shares of demand, by segment, and the compute each channel adds."""
    demand = d.demand_usd
    with np.errstate(invalid="ignore", divide="ignore"):
        out[("demand_usd", "total", "total")] = demand
        out[("demand_new_usd", "total", "total")] = d.new_demand_usd  # type: ignore[assignment]
        out[("demand_carried_usd", "total", "total")] = d.carried_usd  # type: ignore[assignment]
        out[("deferred_usd", "total", "total")] = d.met_usd["deferred"]
        residual = demand - sum(d.met_usd[ch] for ch in IDENTITY)
        out[("identity_residual_usd", "total", "total")] = residual  # type: ignore[assignment]
        for ch in IDENTITY:
            out[("demand_met_usd", "channel", ch)] = d.met_usd[ch]
            out[("share_of_demand", "channel", ch)] = d.met_usd[ch] / demand
        out[("domestic_share_of_demand", "total", "total")] = d.met_usd["domestic"] / demand
        out[("scarcity_markup", "total", "total")] = d.scarcity_markup  # type: ignore[assignment]
        for sid, seg_demand in d.segment_demand_usd.items():
            out[("demand_usd", "segment", sid)] = seg_demand
            out[("deferred_usd", "segment", sid)] = d.segment_met_usd[sid]["deferred"]
            out[("domestic_share_of_demand", "segment", sid)] = (
                d.segment_met_usd[sid]["domestic"] / seg_demand
            )
    legal = out[("stock_h100e", "total", "total")]
    effective = legal.copy()
    if d.grey_units is not None and c.grey is not None:
        out[("units", "channel", "grey")] = d.grey_units
        added = _spec_flow(d.grey_units, c.grey.h100e)
        out[("added_h100e", "channel", "grey")] = added
        out[("stock_h100e", "channel", "grey")] = installed(added, d.retirement_years)
        effective = effective + out[("stock_h100e", "channel", "grey")]
    if d.offshore_h100e is not None:
        out[("rented_h100e", "channel", "offshore")] = d.offshore_h100e
        effective = effective + d.offshore_h100e
    out[("stock_h100e", "channel", "licensed")] = (
        legal - out[("stock_h100e", "vendor_country", c.scenario.market)]
        if ("stock_h100e", "vendor_country", c.scenario.market) in out
        else legal
    )
    out[("effective_stock_h100e", "total", "total")] = effective


def _groups(products: list[Product], attr: str) -> dict[str, list[str]]:
    g: dict[str, list[str]] = {}
    for p in products:
        g.setdefault(getattr(p, attr), []).append(p.id)
    return g


def percentiles(x: np.ndarray, qs: tuple[int, ...]) -> np.ndarray:
    """``np.percentile(x, qs, axis=0)`` (linear interpolation), about 3x faster: one partial
    sort for the columns without blanks or infinities; those few go through NumPy itself."""
    n = x.shape[0]
    flat = x.reshape(n, -1)
    odd = ~np.isfinite(flat).all(axis=0)
    pos = np.asarray(qs, dtype=float) / 100 * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    part = np.partition(flat[:, ~odd], np.unique(np.concatenate([lo, hi])), axis=0)
    out = np.empty((len(qs), flat.shape[1]))
    out[:, ~odd] = part[lo] + (pos - lo)[:, None] * (part[hi] - part[lo])
    if odd.any():
        with np.errstate(invalid="ignore"):
            out[:, odd] = np.percentile(flat[:, odd], qs, axis=0)
    return out.reshape((len(qs), *x.shape[1:]))


def summarize(years: list[int], metrics: dict[Key, np.ndarray]) -> pd.DataFrame:
    """Tidy table: year, metric, level, group, p10, p50, p90, mean (percentiles over draws)."""
    import pandas as pd

    keys = list(metrics)
    stack = np.stack([metrics[k] for k in keys], axis=1)  # (draws, keys, years)
    with np.errstate(invalid="ignore"):
        pct = percentiles(stack, PERCENTILES)  # (3, keys, years)
        mean = stack.mean(axis=0)
    n_years = len(years)
    return pd.DataFrame(
        {
            "year": np.tile(years, len(keys)),
            "metric": np.repeat([k[0] for k in keys], n_years),
            "level": np.repeat([k[1] for k in keys], n_years),
            "group": np.repeat([k[2] for k in keys], n_years),
            "p10": pct[0].ravel(),
            "p50": pct[1].ravel(),
            "p90": pct[2].ravel(),
            "mean": mean.ravel(),
        }
    )


def binding_table(c: Compiled, d: Draws) -> pd.DataFrame:
    """Which limit binds each domestic product's output: share of draws per year and limit."""
    import pandas as pd

    rows = []
    for pid, codes in d.binding.items():
        for j, year in enumerate(c.years):
            counts = np.bincount(codes[:, j], minlength=len(d.limit_names[pid]))
            for k, name in enumerate(d.limit_names[pid]):
                if counts[k]:
                    rows.append(
                        {
                            "year": year,
                            "product": pid,
                            "limit": name,
                            "share_of_draws": counts[k] / codes.shape[0],
                        }
                    )
    return pd.DataFrame(rows, columns=["year", "product", "limit", "share_of_draws"])


# --- public result ---------------------------------------------------------------------------
@dataclass
class MarketResult:
    scenario: Scenario
    draws: int
    seed: int
    years: list[int]
    summary: pd.DataFrame
    binding: pd.DataFrame
    notes: list[str]
    inputs: list[dict[str, Any]]
    samples: dict[Key, np.ndarray] = field(repr=False, default_factory=dict)
    events: list[dict[str, str]] = field(default_factory=list)

    def get(self, metric: str, group: str = "total", year: int | None = None) -> pd.DataFrame:
        df = self.summary
        df = df[(df.metric == metric) & (df.group == group)]
        return df if year is None else df[df.year == year]

    def identity_table(self) -> pd.DataFrame:
        """Per year, P50 of demand and of each channel that meets it, and both domestic shares
        (P50s of parts need not add up to the P50 of the whole; each draw's parts do)."""
        import pandas as pd

        rows = []
        for y in self.years:
            row: dict[str, Any] = {"year": y}
            for name, metric, group in (
                ("demand_usd", "demand_usd", "total"),
                *((f"{ch}_usd", "demand_met_usd", ch) for ch in IDENTITY),
                ("domestic_share_of_sales", "domestic_share", "total"),
                ("domestic_share_of_demand", "domestic_share_of_demand", "total"),
                ("identity_residual_usd", "identity_residual_usd", "total"),
            ):
                got = self.get(metric, group, y)
                row[name] = float(got.iloc[0]["p50"]) if not got.empty else None
            rows.append(row)
        return pd.DataFrame(rows)

    def binding_by_year(self) -> pd.DataFrame:
        """The limit that binds in most draws, per domestic product and year."""
        if self.binding.empty:
            return self.binding
        b = self.binding.sort_values("share_of_draws", ascending=False)
        return (
            b.groupby(["year", "product"], as_index=False).first().sort_values(["product", "year"])
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (NaN and infinities become None), for the CLI and the API."""
        from chipwatch.jsonable import to_jsonable

        s = self.scenario
        return to_jsonable({
            "scenario": s.id,
            "title": s.title,
            "market": s.market,
            "draws": self.draws,
            "seed": self.seed,
            "years": self.years,
            "allocation": s.allocation,
            "demand_identity": self.identity_table().to_dict(orient="records"),
            "policy_events": self.events,
            "summary": self.summary.to_dict(orient="records"),
            "binding": self.binding.to_dict(orient="records"),
            "binding_by_year": self.binding_by_year().to_dict(orient="records"),
            "inputs": self.inputs,
            "notes": self.notes,
        })  # fmt: skip


def resolve_sources(text: str) -> str:
    """A source with each ``est:<id>`` followed by who published it and when."""
    from chipwatch.market.estimates import EST_REF, load_estimates

    known = load_estimates()

    def cite(m: Any) -> str:
        e = known.get(m.group(1))
        return f"{m.group(0)} [{e.short_cite}]" if e else m.group(0)

    return EST_REF.sub(cite, text)


def cites_unverified(text: str) -> bool:
    """Whether a source leans on an estimate row whose status is unverified."""
    from chipwatch.market.estimates import load_estimates, references

    known = load_estimates()
    return any(r in known and known[r].status == "unverified" for r in references(text))


def describe_inputs(c: Compiled) -> list[dict[str, Any]]:
    """One row per input and anchor year: distribution, central value, source, unverified."""
    rows = []
    for name, spec in c.inputs.items():
        items = [(None, spec)] if isinstance(spec, Dist) else sorted(spec.items())
        for year, dist in items:
            rows.append(
                {
                    "input": name,
                    "year": year,
                    "distribution": dist.describe(),
                    "central": dist.central(),
                    "source": resolve_sources(dist.source),
                    "unverified": dist.unverified or cites_unverified(dist.source),
                }
            )
    return rows


def run(
    scenario: str | Scenario, draws: int = 2000, seed: int = 0, *, ws: Workspace | None = None
) -> MarketResult:
    """Monte Carlo of a scenario: yearly units, revenue, shares, stocks with P10/P50/P90."""
    if not 1 <= draws <= MAX_DRAWS:
        raise ValueError(f"draws must be between 1 and {MAX_DRAWS:,} (memory grows with draws)")
    ws = resolve(ws)
    s = load_scenario(scenario, ws=ws)
    c = compile_scenario(s, ws=ws)
    d = simulate(c, uniforms(list(c.inputs), draws, seed))
    metrics = metric_draws(c, d)
    return MarketResult(
        s,
        draws,
        seed,
        c.years,
        summarize(c.years, metrics),
        binding_table(c, d),
        c.notes,
        describe_inputs(c),
        metrics,
        policy_events(s, c.years, c.us_gate),
    )
