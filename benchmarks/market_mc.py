"""Timing of the market Monte Carlo: compile once, then simulate and summarize N draws.

    python benchmarks/market_mc.py [--draws 10000] [--scenario baseline] [--repeat 3]

Prints the best of ``repeat`` timings for each stage, in seconds. Not a test.
"""

from __future__ import annotations

import argparse
import time

from chipwatch.market import load_scenario
from chipwatch.market.simulate import (
    binding_table,
    compile_scenario,
    metric_draws,
    simulate,
    summarize,
    uniforms,
)


def best(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    t_load, s = best(lambda: load_scenario(a.scenario), 1)
    t_compile, c = best(lambda: compile_scenario(s), 1)  # first call: engine + perf lookups
    t_recompile, c = best(lambda: compile_scenario(s), a.repeat)
    u = uniforms(list(c.inputs), a.draws, seed=0)
    t_uni, u = best(lambda: uniforms(list(c.inputs), a.draws, seed=0), a.repeat)
    t_sim, d = best(lambda: simulate(c, u), a.repeat)
    t_metrics, m = best(lambda: metric_draws(c, d), a.repeat)
    t_sum, _ = best(lambda: summarize(c.years, m), a.repeat)
    t_bind, _ = best(lambda: binding_table(c, d), a.repeat)
    mc = t_uni + t_sim + t_metrics + t_sum + t_bind
    print(
        f"scenario {a.scenario}: {len(c.inputs)} uncertain inputs, {len(c.products)} products, "
        f"{len(c.years)} years, {len(m)} metric series"
    )
    print(f"load scenario (YAML + validation)   {t_load:8.3f} s")
    print(f"compile, first (controls + perf)    {t_compile:8.3f} s")
    print(f"compile, cached                     {t_recompile:8.3f} s")
    print(f"draw uniforms      {a.draws:>7} draws  {t_uni:8.3f} s")
    print(f"simulate           {a.draws:>7} draws  {t_sim:8.3f} s")
    print(f"metrics + stocks   {a.draws:>7} draws  {t_metrics:8.3f} s")
    print(f"percentiles        {a.draws:>7} draws  {t_sum:8.3f} s")
    print(f"binding table      {a.draws:>7} draws  {t_bind:8.3f} s")
    print(f"Monte Carlo total  {a.draws:>7} draws  {mc:8.3f} s  (best of {a.repeat})")


if __name__ == "__main__":
    main()
