"""Market and compute-stock scenarios: shipments, revenue, shares and installed AI compute by
year, with uncertainty (vectorized Monte Carlo), scenario comparison, sensitivity and a check
against cited figures. See docs/market-model.md.

    from chipwatch.market import list_scenarios, load_scenario, run, compare, sensitivity, check
"""

from chipwatch.market.check import check
from chipwatch.market.compare import compare
from chipwatch.market.estimates import Estimate, load_estimates
from chipwatch.market.loading import list_scenarios, load_scenario
from chipwatch.market.scenario import Scenario, ScenarioError, ScenarioInfo
from chipwatch.market.sensitivity import sensitivity
from chipwatch.market.simulate import MarketResult, run

__all__ = [
    "Estimate",
    "MarketResult",
    "Scenario",
    "ScenarioError",
    "ScenarioInfo",
    "check",
    "compare",
    "list_scenarios",
    "load_estimates",
    "load_scenario",
    "run",
    "sensitivity",
]
