"""Valid ways to spread a model over N chips: independent replicas of a tensor, pipeline, data
and expert parallel group.

``num_chips = replicas x tp x pp x dp``. ``dp`` ranks serve their own sequences but share the
routed experts of a MoE model (expert parallel over attention-DP ranks, as vLLM/SGLang DP
attention + EP), so their tokens travel to the experts and back. ``replicas`` are independent
copies of the whole ``tp x pp x dp`` group with no traffic between them (several serving
instances behind one load balancer). For a dense model dp ranks share nothing, so dp and
replicas are the same layout; the chooser reports dense copies as ``dp``.
"""

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


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def check(
    model: ModelSpec, par: Parallelism, num_chips: int, domain_chips: int | None = None
) -> None:
    """Raise :class:`PerfInputError` with a clear reason if ``par`` cannot run ``model``."""
    for name in ("tp", "pp", "dp", "ep", "replicas"):
        if getattr(par, name) < 1:
            raise PerfInputError(f"{name} must be >= 1, got {getattr(par, name)}")
    if par.chips != num_chips:
        raise PerfInputError(
            f"replicas x tp x pp x dp = {par.replicas} x {par.tp} x {par.pp} x {par.dp} = "
            f"{par.chips} does not equal num_chips = {num_chips}"
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
    replicas: int | None = None,
) -> list[Parallelism]:
    """Every valid layout for ``num_chips`` that agrees with the degrees given.

    Dense models: dp ranks exchange nothing, so (dp, replicas) = (d r, 1) and (d, r) are the
    same layout; unless dp or replicas is fixed, only replicas = 1 is listed.
    """
    out = []
    for r in divisors(num_chips):
        if replicas is not None and r != replicas:
            continue
        if not model.moe and r > 1 and replicas is None and dp is None:
            continue
        group = num_chips // r
        for t in divisors(group):
            if tp is not None and t != tp:
                continue
            for p in divisors(group // t):
                if pp is not None and p != pp:
                    continue
                d = group // (t * p)
                if dp is not None and d != dp:
                    continue
                eps = [1]
                if model.moe:
                    eps = [e for e in divisors(t * d) if model.moe.experts % e == 0]
                for e in eps:
                    if ep is not None and e != ep:
                        continue
                    par = Parallelism(t, p, d, e, r)
                    try:
                        check(model, par, num_chips, domain_chips)
                    except PerfInputError:
                        continue
                    out.append(par)
    return out
