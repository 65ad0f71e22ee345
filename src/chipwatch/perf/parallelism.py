"""Valid ways to spread a model over N chips (tensor, pipeline, data and expert parallel)."""

from __future__ import annotations

from dataclasses import dataclass

from chipwatch.perf.hardware import PerfInputError
from chipwatch.perf.models import ModelSpec


@dataclass(frozen=True)
class Parallelism:
    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 1

    @property
    def chips(self) -> int:
        return self.tp * self.pp * self.dp

    def as_dict(self) -> dict[str, int]:
        return {"tp": self.tp, "pp": self.pp, "dp": self.dp, "ep": self.ep}


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def check(
    model: ModelSpec, par: Parallelism, num_chips: int, domain_chips: int | None = None
) -> None:
    """Raise :class:`PerfInputError` with a clear reason if ``par`` cannot run ``model``."""
    for name in ("tp", "pp", "dp", "ep"):
        if getattr(par, name) < 1:
            raise PerfInputError(f"{name} must be >= 1, got {getattr(par, name)}")
    if par.chips != num_chips:
        raise PerfInputError(
            f"tp x pp x dp = {par.tp} x {par.pp} x {par.dp} = {par.chips} does not equal "
            f"num_chips = {num_chips}"
        )
    if model.heads % par.tp:
        raise PerfInputError(
            f"tensor parallel {par.tp} does not divide the {model.heads} attention heads of "
            f"{model.id}"
        )
    if par.pp > model.layers:
        raise PerfInputError(f"pipeline parallel {par.pp} exceeds the {model.layers} layers")
    if model.moe:
        stage = par.tp * par.dp
        if stage % par.ep or model.moe.experts % par.ep:
            raise PerfInputError(
                f"expert parallel {par.ep} must divide both tp x dp = {stage} and the "
                f"{model.moe.experts} experts of {model.id}"
            )
    elif par.ep != 1:
        raise PerfInputError(f"{model.id} is dense: expert parallel must be 1, got {par.ep}")
    if domain_chips and par.tp > domain_chips:
        raise PerfInputError(
            f"tensor parallel {par.tp} spans more chips than one scale-up domain ({domain_chips})"
        )


def candidates(
    model: ModelSpec,
    num_chips: int,
    domain_chips: int | None = None,
    tp: int | None = None,
    pp: int | None = None,
    dp: int | None = None,
    ep: int | None = None,
) -> list[Parallelism]:
    """Every valid layout for ``num_chips`` that agrees with the degrees given."""
    out = []
    for t in divisors(num_chips):
        if tp is not None and t != tp:
            continue
        for p in divisors(num_chips // t):
            if pp is not None and p != pp:
                continue
            d = num_chips // (t * p)
            if dp is not None and d != dp:
                continue
            eps = [1]
            if model.moe:
                eps = [e for e in divisors(t * d) if model.moe.experts % e == 0]
            for e in eps:
                if ep is not None and e != ep:
                    continue
                par = Parallelism(t, p, d, e)
                try:
                    check(model, par, num_chips, domain_chips)
                except PerfInputError:
                    continue
                out.append(par)
    return out
