"""Vectorized Monte Carlo of a market scenario: yearly flows, cumulative stocks, shares.

Steps, each over all draws at once (NumPy arrays of shape (draws, years)):

1. Draw every uncertain input from one uniform number per input and draw (:func:`uniforms`);
   the uniform of an input depends only on (seed, input name), so two scenarios run with the
   same seed share draws for the inputs they have in common (paired comparisons).
2. Year by year: each domestic product's supply is the minimum of its limits (die bank + wafers
   x yield, HBM stacks / stacks per package, packaging, reported capacity); each foreign chip's
   supply is its cap x share of the year it is available x buyers' uptake; demand in dollars is
   allocated to them (:mod:`chipwatch.market.allocate`); the die bank and HBM stockpile are drawn
   down by what was sold.
3. Stocks: units shipped in year t stay installed while their age is below the retirement age
   (fractional in the last year); compute, H100-equivalents, memory bandwidth and served tokens
   per second are summed draw by draw, so the interval of a total is the interval of the sum.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from chipwatch.market.allocate import allocate, price_performance_order
from chipwatch.market.distributions import Dist, series_at, series_ppf
from chipwatch.market.loading import load_scenario
from chipwatch.market.policy import monthly_availability
from chipwatch.market.scenario import Scenario
from chipwatch.market.serving import tokens_per_s_per_chip
from chipwatch.workspace import Workspace, resolve

if TYPE_CHECKING:
    import pandas as pd

# Epoch AI's H100-equivalent: a chip's dense 8-bit OP/s divided by the H100 SXM's 1,979e12
# (epoch-research/ai-chip-counts, pipeline/chip_schema.py, H100_OPS).
H100_OPS_8BIT = 1979e12
PERCENTILES = (10, 50, 90)
MAX_DRAWS = 100_000


# --- static per-product facts ----------------------------------------------------------------
@dataclass
class Product:
    id: str
    kind: str  # "domestic" or "foreign"
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
    products: list[Product]
    inputs: dict[str, Dist | dict[int, Dist]]
    availability: dict[str, np.ndarray]  # foreign product -> 0/1 per month
    notes: list[str]


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


def compile_scenario(s: Scenario, *, ws: Workspace | None = None) -> Compiled:
    """Resolve chips, specs, availability and the list of uncertain inputs (no sampling), with
    the workspace's catalog, rulebook and performance model."""
    ws = resolve(ws)
    catalog = ws.catalog

    years = s.years
    notes: list[str] = list(s.notes)
    inputs: dict[str, Dist | dict[int, Dist]] = {
        "demand_usd": s.demand_usd,
        "retirement_years": s.retirement_years,
    }
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
        for name in (
            "price_usd",
            "capacity_units",
            "die_bank_dies",
            "wafers_per_year",
            "dies_per_wafer",
            "die_yield",
            "packaging_survival",
            "hbm_stacks_stock",
            "hbm_stacks_per_year",
            "packaging_units_per_year",
        ):
            v = getattr(dp, name)
            if v is not None:
                inputs[f"domestic.{pid}.{'yield' if name == 'die_yield' else name}"] = v
        for y, m in dp.mix.items():
            inputs[f"domestic.{pid}.mix.{y}.dies_per_package"] = m.dies_per_package
            inputs[f"domestic.{pid}.mix.{y}.hbm_stacks_per_package"] = m.hbm_stacks_per_package

    availability: dict[str, np.ndarray] = {}
    for pid, fp in s.foreign.items():
        chip = catalog.chip(s.foreign_chip(pid))
        products.append(facts(pid, "foreign", [chip.id] * len(years)))
        inputs[f"foreign.{pid}.supply_cap_units"] = fp.supply_cap_units
        inputs[f"foreign.{pid}.price_usd"] = fp.price_usd or {years[0]: catalog_price(chip)}
        if fp.levy_share is not None:
            inputs[f"foreign.{pid}.levy_share"] = fp.levy_share
        for i, w in enumerate(fp.windows):
            if w.uptake is not None:
                inputs[f"foreign.{pid}.windows[{i}].uptake"] = w.uptake
        avail, why = monthly_availability(chip.id, years, s.market, fp.licences, ws=ws)
        notes.extend(n for n in why if n not in notes)
        availability[pid] = avail
    return Compiled(s, years, products, inputs, availability, notes)


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


# --- the simulation --------------------------------------------------------------------------
@dataclass
class Draws:
    """Raw per-draw arrays, shape (draws, years) unless noted."""

    units: dict[str, np.ndarray]
    revenue_usd: dict[str, np.ndarray]
    levy_usd: dict[str, np.ndarray]
    demand_usd: np.ndarray
    unmet_usd: np.ndarray
    retirement_years: np.ndarray  # (draws,)
    limits: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    binding: dict[str, np.ndarray] = field(default_factory=dict)  # int codes into limit_names
    limit_names: dict[str, list[str]] = field(default_factory=dict)
    sellable: dict[str, np.ndarray] = field(default_factory=dict)  # foreign: cap x avail x uptake


def _sellable_share(c: Compiled, pid: str, x: dict[str, np.ndarray], draws: int) -> np.ndarray:
    """Share of each year a foreign chip is available, times buyers' uptake: (draws, years)."""
    from chipwatch.market.policy import month_dates

    fp = c.scenario.foreign[pid]
    days = month_dates(c.years)
    avail = np.broadcast_to(c.availability[pid], (draws, len(days))).copy()
    uptake = np.ones((draws, len(days)))
    for i, w in enumerate(fp.windows):
        mask = np.array([w.start <= d <= w.end for d in days])
        if w.available is not None:
            avail[:, mask] = 1.0 if w.available else 0.0
        if w.uptake is not None:
            uptake[:, mask] = x[f"foreign.{pid}.windows[{i}].uptake"][:, None]
    return (avail * uptake).reshape(draws, len(c.years), 12).mean(axis=2)


def simulate(c: Compiled, u: dict[str, np.ndarray]) -> Draws:
    """Run the model for the uniforms ``u`` (one array of draws per input name)."""
    s, years = c.scenario, c.years
    draws = len(next(iter(u.values())))
    x = {name: sample(spec, u[name], years) for name, spec in c.inputs.items()}
    n_years = len(years)
    demand = x["demand_usd"]
    price = {p.id: x[f"{p.kind}.{p.id}.price_usd"] for p in c.products}

    # Foreign supply on offer per year: cap x (availability x uptake).
    offer: dict[str, np.ndarray] = {}
    for pid in s.foreign:
        offer[pid] = x[f"foreign.{pid}.supply_cap_units"] * _sellable_share(c, pid, x, draws)

    units = {p.id: np.zeros((draws, n_years)) for p in c.products}
    limits: dict[str, dict[str, np.ndarray]] = {}
    binding: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    bank = {
        pid: x.get(f"domestic.{pid}.die_bank_dies", np.zeros(draws)).copy() for pid in s.domestic
    }
    hbm = {
        pid: x.get(f"domestic.{pid}.hbm_stacks_stock", np.zeros(draws)).copy() for pid in s.domestic
    }
    for pid, dp in s.domestic.items():
        names[pid] = [
            n
            for n, present in (
                ("capacity", dp.capacity_units is not None),
                ("logic_dies", dp.die_bank_dies is not None or dp.wafers_per_year is not None),
                ("hbm", dp.hbm_stacks_stock is not None),
                ("packaging", dp.packaging_units_per_year is not None),
            )
            if present
        ] + ["demand"]
        limits[pid] = {n: np.zeros((draws, n_years)) for n in names[pid][:-1]}
        binding[pid] = np.zeros((draws, n_years), dtype=np.int8)

    facts = {p.id: p for p in c.products}
    unmet = np.zeros((draws, n_years))
    for j, year in enumerate(years):
        cap: dict[str, np.ndarray] = {}
        recipe: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for pid, dp in s.domestic.items():
            key = f"domestic.{pid}"
            step_year = max([y for y in dp.mix if y <= year], default=min(dp.mix))
            dpp = x[f"{key}.mix.{step_year}.dies_per_package"]
            spp = x[f"{key}.mix.{step_year}.hbm_stacks_per_package"]
            survive = x.get(f"{key}.packaging_survival", np.ones(draws))
            new_dies = (
                (
                    x[f"{key}.wafers_per_year"][:, j]
                    * x[f"{key}.dies_per_wafer"]
                    * x[f"{key}.yield"][:, j]
                )
                if dp.wafers_per_year is not None
                else np.zeros(draws)
            )
            new_hbm = (
                x[f"{key}.hbm_stacks_per_year"][:, j] if dp.hbm_stacks_per_year else np.zeros(draws)
            )
            lim = limits[pid]
            if "capacity" in lim:  # between its first and last anchors, unless it is the only limit
                span = sorted(dp.capacity_units or {})
                inside = len(lim) == 1 or span[0] <= year <= span[-1]
                lim["capacity"][:, j] = x[f"{key}.capacity_units"][:, j] if inside else np.inf
            if "logic_dies" in lim:  # packages = good dies x packaging survival / dies per package
                lim["logic_dies"][:, j] = _per(bank[pid] + new_dies, dpp) * survive
            if "hbm" in lim:  # packages = HBM stacks x packaging survival / stacks per package
                lim["hbm"][:, j] = _per(hbm[pid] + new_hbm, spp) * survive
            if "packaging" in lim:
                lim["packaging"][:, j] = x[f"{key}.packaging_units_per_year"][:, j]
            stack = np.stack([lim[n][:, j] for n in names[pid][:-1]], axis=1)
            cap[pid] = stack.min(axis=1)
            binding[pid][:, j] = stack.argmin(axis=1)
            recipe[pid] = (dpp, spp, survive, new_dies, new_hbm)
        for pid in s.foreign:
            cap[pid] = offer[pid][:, j]

        order = allocation_order(c, j)
        sold, left = allocate(
            demand[:, j],
            np.stack([cap[p] for p in order], axis=1),
            np.stack([price[p][:, j] for p in order], axis=1),
        )
        unmet[:, j] = left
        for k, pid in enumerate(order):
            units[pid][:, j] = sold[:, k]

        for pid in s.domestic:  # draw down stocks by what was made for sale: new output first
            dpp, spp, survive, new_dies, new_hbm = recipe[pid]
            made = np.divide(units[pid][:, j], survive, out=np.zeros(draws), where=survive > 0)
            bank[pid] = np.maximum(bank[pid] - np.maximum(made * dpp - new_dies, 0.0), 0.0)
            hbm[pid] = np.maximum(hbm[pid] - np.maximum(made * spp - new_hbm, 0.0), 0.0)
            short = units[pid][:, j] < cap[pid] * (1 - 1e-9) - 1e-9
            binding[pid][short, j] = len(names[pid]) - 1  # demand, not supply, binds

    revenue = {pid: units[pid] * price[pid] for pid in units}
    levy = {
        pid: revenue[pid] * x[f"foreign.{pid}.levy_share"]
        for pid in s.foreign
        if f"foreign.{pid}.levy_share" in x
    }
    del facts
    return Draws(
        units, revenue, levy, demand, unmet, x["retirement_years"], limits, binding, names, offer
    )


def _per(amount: np.ndarray, per_package: np.ndarray) -> np.ndarray:
    """amount / per_package, with no limit (inf) where a package needs none."""
    return np.divide(amount, per_package, out=np.full_like(amount, np.inf), where=per_package > 0)


def allocation_order(c: Compiled, j: int) -> list[str]:
    """Product ids in the order buyers turn to them in year index ``j`` (see allocate.py)."""
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
    out[("demand_usd", "total", "total")] = d.demand_usd
    out[("unmet_demand_usd", "total", "total")] = d.unmet_usd
    for pid, lim in d.limits.items():
        for name, arr in lim.items():
            out[("supply_limit_units", "limit", f"{pid}:{name}")] = arr
        stack = np.stack(list(lim.values()), axis=0)
        out[("supply_units", "product", pid)] = stack.min(axis=0)
    for pid, arr in d.sellable.items():
        out[("supply_units", "product", pid)] = arr
    return out


def _groups(products: list[Product], attr: str) -> dict[str, list[str]]:
    g: dict[str, list[str]] = {}
    for p in products:
        g.setdefault(getattr(p, attr), []).append(p.id)
    return g


def summarize(years: list[int], metrics: dict[Key, np.ndarray]) -> pd.DataFrame:
    """Tidy table: year, metric, level, group, p10, p50, p90, mean (percentiles over draws)."""
    import pandas as pd

    keys = list(metrics)
    stack = np.stack([metrics[k] for k in keys], axis=1)  # (draws, keys, years)
    with np.errstate(invalid="ignore"):
        pct = np.percentile(stack, PERCENTILES, axis=0)  # (3, keys, years)
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

    def get(self, metric: str, group: str = "total", year: int | None = None) -> pd.DataFrame:
        df = self.summary
        df = df[(df.metric == metric) & (df.group == group)]
        return df if year is None else df[df.year == year]

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
    )
