"""Energy and cost per token, from stated and overridable assumptions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SECONDS_PER_YEAR = 365.25 * 24 * 3600


class CostAssumptions(BaseModel):
    """Every number behind tokens/J and $/M tokens; override any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    life_years: float = Field(
        default=4.0, gt=0, description="straight-line amortisation of the chip price"
    )
    utilisation: float = Field(
        default=0.6, gt=0, le=1, description="share of wall-clock time serving at the modelled rate"
    )
    usd_per_kwh: float = Field(
        default=0.081,
        ge=0,
        description="US average industrial electricity price 2024 (EIA Electric Power Monthly, "
        "table 5.3: 8.1 cents/kWh)",
    )
    pue: float = Field(
        default=1.56,
        ge=1,
        description="data-centre power usage effectiveness (Uptime Institute Global Data Center "
        "Survey 2024 average: 1.56)",
    )
    power_fraction_of_tdp: float = Field(
        default=1.0, gt=0, le=1.5, description="chip power while serving, as a share of TDP"
    )
    capex_multiplier: float = Field(
        default=1.0,
        gt=0,
        description="system capex per chip as a multiple of the chip price (1 = chip only; "
        "set ~1.5-2 to include servers, networking)",
    )


def chip_power_w(tdp_w: float | None, a: CostAssumptions) -> float | None:
    return None if tdp_w is None else tdp_w * a.power_fraction_of_tdp


def tokens_per_joule(
    tokens_per_s: float, num_chips: int, tdp_w: float | None, a: CostAssumptions
) -> float | None:
    """Output tokens per joule of chip energy (at the stated share of TDP, before PUE)."""
    p = chip_power_w(tdp_w, a)
    if not p or tokens_per_s <= 0:
        return None
    return tokens_per_s / (num_chips * p)


def usd_per_million_tokens(
    tokens_per_s: float,
    num_chips: int,
    price_usd: float | None,
    tdp_w: float | None,
    a: CostAssumptions,
) -> float | None:
    """(amortised capex + facility energy) per second / tokens per second, at utilisation."""
    p = chip_power_w(tdp_w, a)
    if price_usd is None or p is None or tokens_per_s <= 0:
        return None
    capex_per_s = price_usd * a.capex_multiplier / (a.life_years * SECONDS_PER_YEAR)
    energy_per_s = p * a.pue * a.usd_per_kwh / 3.6e6
    usd_per_s = (capex_per_s + energy_per_s) * num_chips
    return usd_per_s / (tokens_per_s * a.utilisation) * 1e6
