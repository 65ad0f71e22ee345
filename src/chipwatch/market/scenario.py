"""Market scenarios: the YAML schema, inheritance (``extends:``) and loading with clear errors.

A scenario describes one market (e.g. China) over a span of years: demand in US dollars per year,
domestic products with their supply limits (die bank, wafers x yield, HBM stacks, packaging),
foreign chips with a supply cap, a price and their availability under export controls, and how
long installed chips stay in service. Uncertain inputs are :class:`Dist` values with a source.

Scenario files live in ``data/market/scenarios/`` (packaged) and ``DIR/market/scenarios/`` in
user folders. ``extends: baseline`` starts from another scenario and deep-merges the changes over
it: mappings merge key by key, a distribution (any mapping with ``dist``/``value``/``median``/
``mode``) and lists are replaced whole, and ``null`` deletes a key (e.g. drop a foreign chip).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from chipwatch.catalog.loader import (
    LoadError,
    packaged_dir,
    read_yaml,
    user_dirs,
    user_files,
    validation_errors,
    yaml_files,
)
from chipwatch.market.distributions import Dist, check_fraction

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

KIND = "market/scenarios"

Fraction = Annotated[Dist, AfterValidator(check_fraction)]
Series = dict[int, Dist]
FractionSeries = dict[int, Fraction]


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message is one line: where, and what is wrong."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _years_ok(series: dict[int, Any] | None, what: str) -> None:
    if series is not None and not series:
        raise ValueError(f"{what} needs at least one year")
    for y in series or {}:
        if not 1990 <= y <= 2100:
            raise ValueError(f"{what}: year {y} is out of range")


class MixStep(Strict):
    """The chip a domestic product line makes from ``year`` on, and its packaging recipe.

    Where the product's own chip is not in the catalog, ``chip`` names a catalog chip used as a
    stand-in for the per-unit figures (FLOP/s, H100-equivalents, bandwidth, served tokens);
    ``proxy_for`` names the real product and ``proxy_source`` says why the stand-in fits.
    """

    chip: str
    dies_per_package: Dist
    hbm_stacks_per_package: Dist
    proxy_for: str | None = None
    proxy_source: str | None = None

    @model_validator(mode="after")
    def _proxy(self) -> MixStep:
        if self.proxy_for is not None and not self.proxy_source:
            raise ValueError("proxy_for needs proxy_source (why the catalog chip stands in)")
        return self


class DomesticProduct(Strict):
    """A domestic product line whose output is the minimum of its supply limits.

    Limits (each optional, at least one): ``capacity_units`` (a reported or planned unit cap for
    the years from its first to its last anchor; no cap outside them);
    logic dies = die bank (a stock, used up over the years) + wafers x good dies per wafer x
    yield; HBM = stockpiled stacks + new stacks per year, divided by stacks per package;
    ``packaging_units_per_year``. Logic dies and HBM stacks are lost with packages that fail
    (``packaging_survival``).
    """

    title: str | None = None
    vendor: str | None = Field(default=None, description="default: the vendor of the mix's chip")
    vendor_country: str | None = Field(default=None, description="default: the chip's country")
    mix: dict[int, MixStep]
    price_usd: Series
    capacity_units: Series | None = None
    die_bank_dies: Dist | None = None
    wafers_per_year: Series | None = None
    dies_per_wafer: Dist | None = None
    die_yield: FractionSeries | None = Field(default=None, alias="yield")
    packaging_survival: Fraction | None = None
    hbm_stacks_stock: Dist | None = None
    hbm_stacks_per_year: Series | None = None
    hbm_drawdown_max: FractionSeries | None = Field(
        default=None,
        description="most of the HBM stockpile (as it stands at the start of a year) used that "
        "year; the rest is carried into the next (default: no cap)",
    )
    node: str | None = Field(default=None, description="foundry node (scenario `foundry`)")
    wafer_share: FractionSeries | None = Field(
        default=None, description="share of the node's wafers this product gets"
    )
    packaging_units_per_year: Series | None = None

    @model_validator(mode="after")
    def _limits(self) -> DomesticProduct:
        _years_ok(self.mix, "mix")
        for name in (
            "price_usd",
            "capacity_units",
            "wafers_per_year",
            "hbm_stacks_per_year",
            "packaging_units_per_year",
        ):
            _years_ok(getattr(self, name), name)
        if (self.node is None) != (self.wafer_share is None):
            raise ValueError("node and wafer_share go together")
        if self.node is not None and self.wafers_per_year is not None:
            raise ValueError("give wafers_per_year or node + wafer_share, not both")
        wafers = self.wafers_per_year if self.node is None else self.wafer_share
        # on a foundry node the yield may come from the node (checked by the scenario)
        die_yield = self.die_yield if self.node is None else (self.die_yield or "node")
        wafer_path = [wafers, self.dies_per_wafer, die_yield]
        if any(x is not None for x in wafer_path) and not all(x is not None for x in wafer_path):
            raise ValueError(
                "the wafer path needs wafers_per_year (or node + wafer_share), dies_per_wafer"
                " and yield"
            )
        if self.hbm_stacks_stock is None and self.hbm_stacks_per_year is not None:
            raise ValueError("hbm_stacks_per_year needs hbm_stacks_stock (use 0 if none)")
        if not any(
            x is not None
            for x in (
                self.capacity_units,
                self.die_bank_dies,
                self.wafers_per_year,
                self.node,
                self.hbm_stacks_stock,
                self.packaging_units_per_year,
            )
        ):
            raise ValueError("a domestic product needs at least one supply limit")
        return self


class Window(Strict):
    """A dated override of a foreign chip's availability and/or buyers' uptake."""

    start: dt.date
    end: dt.date
    available: bool | None = None
    uptake: Fraction | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before start {self.start}")
        if self.available is None and self.uptake is None:
            raise ValueError("a window sets available, uptake or both")
        return self


class Terms(Strict):
    """A US-side payment on a foreign chip's China sales from ``start`` (to ``end``): a revenue
    share (licence condition) or a tariff, as a share of revenue, applied month by month."""

    start: dt.date
    end: dt.date | None = None
    kind: Literal["revenue_share", "tariff"]
    share: Fraction
    source: str = Field(min_length=1)


class ForeignProduct(Strict):
    """A foreign chip sold into the market.

    Each year the units it can sell are ``supply_cap_units`` (what the vendor would ship to
    this market in a full, unrestricted year) x the share of the year it is available x
    buyers' uptake. The US gate comes from the export-control engine month by month
    (``licences`` says what happens when a licence is required; ``windows`` override it); the
    PRC gate from the scenario's ``prc_measures``. ``terms``: revenue shares and tariffs paid to
    the US government, by date.
    """

    chip: str | None = None
    supply_cap_units: Series
    price_usd: Series | None = None
    licences: Literal["engine", "grant", "deny"] = "engine"
    licences_source: str | None = None
    windows: list[Window] = Field(default_factory=list)
    terms: list[Terms] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "levy_share" in data:
            raise ValueError(
                "levy_share (a yearly share) is replaced by terms: a list of {start, kind: "
                "revenue_share|tariff, share, source}, applied month by month"
            )
        return data

    @model_validator(mode="after")
    def _years(self) -> ForeignProduct:
        _years_ok(self.supply_cap_units, "supply_cap_units")
        _years_ok(self.price_usd, "price_usd")
        return self


Channel = Literal["domestic", "licensed", "grey", "offshore"]
CHANNELS: tuple[str, ...] = ("domestic", "licensed", "grey", "offshore")


def _all_channels() -> list[Channel]:
    return ["domestic", "licensed", "grey", "offshore"]


class Segment(Strict):
    """A group of buyers: its share of each year's new demand and the channels it may use.

    ``channels`` are tried in the default order (legal purchases, then grey market and offshore
    rental by cost per H100e-year) unless ``ordered: true``, when they are tried in the order
    listed (e.g. frontier training that turns to top-end NVIDIA parts first)."""

    title: str
    share: FractionSeries
    channels: list[Channel] = Field(default_factory=lambda: _all_channels())
    ordered: bool = False
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Segment:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a channel is listed twice")
        return self


class PrcMeasure(Strict):
    """A measure of the Chinese government that holds back purchases of foreign chips (customs or
    CAC instructions, purchase guidance, the domestic-chip mandate for state-funded centres).

    From ``start`` to ``end``, purchases of ``products`` (foreign product ids, ``"*"`` for all)
    by ``segments`` (default: all) are multiplied by ``uptake`` (0: blocked, 1: no effect).
    Measures are keyed by id in ``prc_measures`` (a child scenario drops one with ``null``)."""

    title: str
    start: dt.date
    end: dt.date | None = None
    products: list[str] = Field(min_length=1)
    segments: list[str] | None = None
    uptake: Fraction
    source: str = Field(min_length=1)


class Gates(Strict):
    """Scenario-wide overrides of the two gates from ``from`` on: the US licence gate (``engine``:
    per product; ``grant``/``deny``: every licence required is granted / refused) and the PRC
    gate (``measures``: the scenario's PRC measures; ``open``: none apply; ``closed``: no licensed
    foreign chip is bought)."""

    us: Literal["engine", "grant", "deny"] = "engine"
    prc: Literal["measures", "open", "closed"] = "measures"
    start: dt.date = Field(alias="from")
    source: str = Field(min_length=1)


class GreyChannel(Strict):
    """Chips bought through the grey market (smuggled or diverted): units a year that reach
    Chinese buyers, of a stand-in chip by year, at its reference price x a premium."""

    chips: dict[int, str]
    units: Series
    price_usd: Series
    price_premium: Dist
    source: str = Field(min_length=1)


class OffshoreChannel(Strict):
    """Compute rented abroad (e.g. in Singapore or Malaysia) by Chinese buyers: the most they
    spend a year, and the rental price of one H100-equivalent for a year."""

    spend_usd: Series
    usd_per_h100e_year: Dist
    source: str = Field(min_length=1)


class FoundryNode(Strict):
    """A foundry node's wafer starts a year available to the market's AI chips and its die
    yield (with ranges); a product's own ``yield`` overrides the node's."""

    title: str
    wafers_per_year: Series
    die_yield: FractionSeries | None = Field(default=None, alias="yield")


class Workload(Strict):
    """The reference model and request shape for served-token capacity (performance model)."""

    model: str
    num_chips: int = Field(default=8, ge=1)
    input_len: int = Field(default=2048, ge=1)
    output_len: int = Field(default=512, ge=1)
    precision: str = "bf16"
    max_tpot_ms: float | None = Field(
        default=None, gt=0, description="latency target per output token (interactive serving)"
    )
    source: str = Field(min_length=1)


class Scenario(Strict):
    id: str
    title: str
    description: str
    extends: str | None = None
    market: str = "CN"
    first_year: int = 2023
    last_year: int = 2030
    demand_usd: Series
    allocation: Literal["domestic_first", "price_performance"] = "domestic_first"
    retirement_years: Dist
    segments: dict[str, Segment] = Field(default_factory=dict)
    demand_carryover: Fraction | None = Field(
        default=None, description="share of a year's deferred demand carried into the next"
    )
    price_elasticity: Dist | None = Field(
        default=None, description="price elasticity of demand (magnitude) for the scarcity price"
    )
    price_markup_max: Dist | None = Field(
        default=None, description="highest price multiple buyers pay for scarce domestic chips"
    )
    gates: Gates | None = None
    prc_measures: dict[str, PrcMeasure] = Field(default_factory=dict)
    grey: GreyChannel | None = None
    offshore: OffshoreChannel | None = None
    foundry: dict[str, FoundryNode] = Field(default_factory=dict)
    reference_workload: Workload | None = None
    domestic: dict[str, DomesticProduct] = Field(default_factory=dict)
    foreign: dict[str, ForeignProduct] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.last_year < self.first_year:
            raise ValueError("last_year is before first_year")
        _years_ok(self.demand_usd, "demand_usd")
        if self.retirement_years.lower() <= 0:
            raise ValueError("retirement_years must be > 0")
        clash = set(self.domestic) & set(self.foreign)
        if clash:
            raise ValueError(f"product ids used twice: {', '.join(sorted(clash))}")
        if self.price_elasticity is not None and self.price_elasticity.lower() <= 0:
            raise ValueError("price_elasticity must be > 0")
        if self.price_markup_max is not None and self.price_markup_max.lower() < 1:
            raise ValueError("price_markup_max must be at least 1 (a multiple of list price)")
        for pid, p in self.domestic.items():
            if p.node is not None and p.node not in self.foundry:
                raise ValueError(f"domestic.{pid}.node: unknown foundry node {p.node!r}")
            if (
                p.node is not None
                and p.die_yield is None
                and self.foundry[p.node].die_yield is None
            ):
                raise ValueError(f"domestic.{pid}: no yield, and node {p.node!r} gives none")
        for mid, m in self.prc_measures.items():
            bad = [x for x in m.segments or [] if x not in self.segments]
            if bad:
                raise ValueError(f"prc_measures.{mid}: unknown segment(s) {bad}")
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    def foreign_chip(self, pid: str) -> str:
        return self.foreign[pid].chip or pid


@dataclass(frozen=True)
class ScenarioInfo:
    id: str
    title: str
    description: str
    extends: str | None = None


# --- loading ---------------------------------------------------------------------------------
DIST_KEYS = {"dist", "value", "median", "mode"}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` onto ``base``; distributions and lists are replaced, None deletes."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict) and not (DIST_KEYS & set(v)):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _raw_scenarios(
    extra_dirs: tuple[str | Path, ...] = (), env: bool = True
) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[LoadError]]:
    raw: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    errors: list[LoadError] = []
    files = yaml_files(packaged_dir(KIND)) if packaged_dir(KIND).is_dir() else []
    for folder in user_dirs(extra_dirs, env):
        if folder.is_dir():
            files += user_files(folder, KIND)
    for f in files:
        docs, errs = read_yaml(f)
        errors.extend(errs)
        for d in docs:
            rid = str(d["id"])
            raw[rid] = merge(raw[rid], d) if rid in raw else d
            origin[rid] = str(f)
    return raw, origin, errors


def _resolve(
    sid: str, raw: dict[str, dict[str, Any]], seen: tuple[str, ...] = ()
) -> dict[str, Any]:
    if sid in seen:
        raise ScenarioError(
            f"scenario {sid!r}: extends forms a cycle ({' -> '.join(seen + (sid,))})"
        )
    d = raw[sid]
    parent = d.get("extends")
    if not parent:
        return d
    if parent not in raw:
        from chipwatch.catalog import suggest

        hint = suggest(str(parent), raw)
        tip = f" Did you mean: {', '.join(hint)}?" if hint else ""
        raise ScenarioError(f"scenario {sid!r}: extends unknown scenario {parent!r}.{tip}")
    base = _resolve(str(parent), raw, seen + (sid,))
    child = {k: v for k, v in d.items() if k not in ("notes",)}
    merged = merge(base, child)
    merged["notes"] = list(base.get("notes", [])) + list(d.get("notes", []))
    merged["sources"] = {**base.get("sources", {}), **d.get("sources", {})}
    return merged


def _chips_exist(s: Scenario, file: str, catalog: Catalog) -> None:
    from chipwatch.catalog import UnknownIdError

    where: list[tuple[str, str]] = [
        (f"foreign.{pid}.chip", s.foreign_chip(pid)) for pid in s.foreign
    ]
    for pid, p in s.domestic.items():
        where += [(f"domestic.{pid}.mix.{y}.chip", m.chip) for y, m in p.mix.items()]
    if s.grey is not None:
        where += [(f"grey.chips.{y}", c) for y, c in s.grey.chips.items()]
    for field, chip in where:
        try:
            catalog.chip(chip)
        except UnknownIdError as e:
            raise ScenarioError(f"{file}: {field}: {e}") from None


def _walk_sources(obj: Any, path: str = "") -> list[tuple[str, str]]:
    """(field path, source text) for every distribution and window in a scenario."""
    out: list[tuple[str, str]] = []
    if isinstance(obj, BaseModel):
        for attr in ("source", "proxy_source", "licences_source"):
            src = getattr(obj, attr, None)
            if isinstance(src, str):
                out.append((f"{path}.{attr}" if attr != "source" else path, src))
        for name in type(obj).model_fields:
            out += _walk_sources(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += _walk_sources(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _walk_sources(v, f"{path}[{i}]")
    return out


def _refs_exist(s: Scenario, file: str) -> None:
    from chipwatch.catalog import suggest
    from chipwatch.market.estimates import load_estimates, references

    known = load_estimates()
    for field, src in _walk_sources(s):
        for ref in references(src):
            if ref not in known:
                hint = suggest(ref, known)
                tip = f" Did you mean: {', '.join('est:' + h for h in hint)}?" if hint else ""
                raise ScenarioError(f"{file}: {field}.source: unknown estimate est:{ref}.{tip}")


def validate_scenario(
    data: dict[str, Any], file: str = "(scenario)", *, catalog: Catalog
) -> Scenario:
    """Validate a resolved scenario mapping against a catalog; raise :class:`ScenarioError` with
    the first problem."""
    try:
        s = Scenario.model_validate(data)
    except ValidationError as e:
        first = validation_errors(file, e)[0]
        raise ScenarioError(str(first)) from None
    _chips_exist(s, file, catalog)
    _refs_exist(s, file)
    return s


class ScenarioLibrary:
    """The scenarios of a workspace: packaged plus user folders (``dirs``, ``CHIPWATCH_PATH``
    already resolved), validated against the workspace's catalog; each loaded once."""

    def __init__(self, dirs: tuple[Path, ...], catalog: Callable[[], Catalog]) -> None:
        self._dirs = dirs
        self._catalog = catalog
        self._loaded: dict[str, Scenario] = {}

    @cached_property
    def _raw(self) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[LoadError]]:
        return _raw_scenarios(self._dirs, env=False)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.list()]

    def _validate(self, data: dict[str, Any], file: str = "(scenario)") -> Scenario:
        return validate_scenario(data, file, catalog=self._catalog())

    def get(self, sid: str) -> Scenario:
        """A scenario by id; :class:`ScenarioError` names the closest ids."""
        if sid in self._loaded:
            return self._loaded[sid]
        raw, origin, _ = self._raw
        if sid not in raw:
            from chipwatch.catalog import suggest

            hint = suggest(sid, raw)
            known = f" Known: {', '.join(sorted(raw))}"
            tip = f" Did you mean: {', '.join(hint)}?" if hint else known
            raise ScenarioError(f"unknown scenario {sid!r}.{tip}")
        s = self._validate(_resolve(sid, raw), origin[sid])
        self._loaded[sid] = s
        return s

    def load(self, scenario: str | Scenario | dict[str, Any] | Path) -> Scenario:
        """A scenario by id, from a YAML file path, a mapping (which may ``extends:`` one of
        these scenarios), or as is."""
        if isinstance(scenario, Scenario):
            return scenario
        raw = self._raw[0]
        if isinstance(scenario, dict):
            if scenario.get("extends"):
                raw = {**raw, str(scenario.get("id", "(scenario)")): scenario}
                return self._validate(_resolve(str(scenario.get("id", "(scenario)")), raw))
            return self._validate(scenario)
        path = Path(str(scenario))
        if path.suffix in (".yaml", ".yml") and path.is_file():
            docs, errs = read_yaml(path)
            if errs:
                raise ScenarioError(str(errs[0]))
            d = docs[0]
            raw = {**raw, str(d["id"]): d}
            return self._validate(_resolve(str(d["id"]), raw), str(path))
        return self.get(str(scenario))

    def list(self) -> list[ScenarioInfo]:
        """Every scenario with a one-line description (packaged first, then user folders)."""
        out = []
        for sid, d in self._raw[0].items():
            desc = " ".join(str(d.get("description", "")).split())
            out.append(ScenarioInfo(sid, str(d.get("title", sid)), desc, d.get("extends")))
        return sorted(out, key=lambda i: (i.id != "baseline", i.extends is not None, i.id))
