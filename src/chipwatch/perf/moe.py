"""Wide expert parallelism: expert slots per rank, the busiest rank's load, and the all-to-all
split between the scale-up domain and the scale-out network.

All functions are NumPy arithmetic that broadcasts (one ``infer`` call or a sweep of millions).

- **Slots**: ``experts + redundant`` expert copies placed evenly over ``ep`` ranks, so a rank
  holds ``ceil((E + R) / ep)`` slots; ``ep`` need not divide ``E`` (EP72, EP144, EP320 with
  DeepSeek-V3's 256 experts). Redundant copies of hot experts are what DeepSeek's EPLB places
  (DeepSeek-V3 report, arXiv 2412.19437, sec. 3.4).
- **Busiest rank**: a MoE layer waits for its slowest rank. With ``n`` token-expert assignments
  per rank on average, random routing puts about ``n + sqrt(2 n ln ep)`` on the busiest of ``ep``
  ranks (maximum of ``ep`` near-Poisson counts, Gaussian tail; Raab & Steger, "Balls into bins",
  RANDOM 1998). A systematic skew (hot experts) multiplies the mean; redundant copies spread it:
  the excess above 1 shrinks by ``E / (E + R)`` (derived assumption, stated in every result).
- **All-to-all**: each token goes to ``k`` experts on ``ep (1 - (1 - 1/ep)^k)`` distinct ranks on
  average; dispatch and combine payloads each cross the link once per copy. Decode sends one
  copy per destination rank (DeepEP low-latency kernels); prefill sends one copy per destination
  node over RDMA and forwards inside the node (DeepEP normal kernels,
  https://github.com/deepseek-ai/DeepEP README), with node-limited routing capping the nodes per
  token (DeepSeek-V3: 4). Copies to ranks in the same scale-up domain use the scale-up link,
  the rest the scale-out network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Num = Any


def slots_per_rank(experts: Num, redundant: Num, ep: Num) -> Num:
    """Expert slots each EP rank holds: ceil((E + R) / ep); 0 for a dense model."""
    return np.where(experts > 0, np.ceil((experts + redundant) / np.maximum(ep, 1.0)), 0.0)


def slot_hit_fraction(experts: Num, active: Num, redundant: Num, tokens: Num) -> Num:
    """Share of a rank's slots that ``tokens`` tokens touch (so their weights are read).

    A token picks ``k`` of ``E`` experts; a hot expert's load is split over its copies, so a slot
    is missed by one token with probability about 1 - k / (E + R)."""
    slots = np.maximum(experts + redundant, 1.0)
    p = np.where(experts > 0, np.minimum(active / slots, 1.0), 0.0)
    return np.where(experts > 0, 1.0 - np.power(1.0 - p, tokens), 0.0)


def effective_skew(skew: Num, experts: Num, redundant: Num) -> Num:
    """Systematic skew left after redundant copies spread the hot experts."""
    return 1.0 + (skew - 1.0) * experts / np.maximum(experts + redundant, 1.0)


def hot_rank_load(
    experts: Num, active: Num, ep: Num, redundant: Num, tokens: Num, skew: Num = 1.0
) -> Num:
    """Token-expert assignments on the busiest EP rank for ``tokens`` tokens of the EP group."""
    mean = tokens * active / np.maximum(ep, 1.0)
    noise = np.sqrt(2.0 * mean * np.log(np.maximum(ep, 1.0)))
    cap = tokens * np.minimum(active, np.maximum(slots_per_rank(experts, redundant, ep), 1.0))
    load = np.minimum(mean * effective_skew(skew, experts, redundant) + noise, cap)
    return np.where(experts > 0, np.maximum(load, mean), 0.0)


def imbalance(experts: Num, active: Num, ep: Num, redundant: Num, tokens: Num, skew: Num) -> Num:
    """Busiest rank's load over the mean (1 = perfectly balanced)."""
    mean = tokens * active / np.maximum(ep, 1.0)
    load = hot_rank_load(experts, active, ep, redundant, tokens, skew)
    return np.where(mean > 0, load / np.maximum(mean, 1e-30), 1.0)


def ep_ranks_per_domain(ep: Num, stage_chips: Num, domain: Num) -> Num:
    """EP ranks that share one scale-up domain (an EP rank is ``stage_chips / ep`` chips)."""
    chips_per_rank = stage_chips / np.maximum(ep, 1.0)
    return np.clip(np.floor(domain / chips_per_rank), 1.0, ep)


def destination_ranks(ep: Num, active: Num) -> Num:
    """Expected distinct EP ranks one token's ``k`` experts live on (uniform placement)."""
    e = np.maximum(ep, 1.0)
    return e * (1.0 - np.power(1.0 - 1.0 / e, active))


def destination_nodes(nodes: Num, active: Num, groups_per_token: Num) -> Num:
    """Expected distinct scale-up domains per token, capped by node-limited routing."""
    n = np.maximum(nodes, 1.0)
    return np.minimum(n * (1.0 - np.power(1.0 - 1.0 / n, active)), groups_per_token)


def all_to_all_bytes(
    tokens: Num,
    hidden: Num,
    active: Num,
    ep: Num,
    stage_chips: Num,
    domain: Num,
    bytes_per_elem: Num,
    groups_per_token: Num,
    per_node: Num,
) -> tuple[Num, Num]:
    """(scale-up, scale-out) bytes one chip sends for ``tokens`` tokens through one MoE layer's
    dispatch and combine; ``bytes_per_elem`` = dispatch + combine bytes per element.

    A token's ``k`` experts live on ``destination_ranks`` EP ranks of ``stage_chips / ep`` chips
    each (an expert split by TP needs the token on every chip of its rank), so it has
    ``copies = ranks x chips per rank`` destination chips, spread evenly over the stage: a share
    (D - 1) / N of them in the sender's own scale-up domain of D chips, (N - D) / N beyond it."""
    e = np.maximum(ep, 1.0)
    n = np.maximum(stage_chips, 1.0)
    d = np.minimum(np.maximum(domain, 1.0), n)
    payload = tokens * hidden * bytes_per_elem
    copies = destination_ranks(e, active) * n / e
    # per destination chip: in-domain copies over scale-up, the rest over scale-out
    rank_up = payload * copies * (d - 1.0) / n
    rank_out = payload * copies * (n - d) / n
    # per destination node: one RDMA copy per other node, every non-self copy crosses scale-up
    nodes = n / d
    node_out = payload * destination_nodes(nodes, active, groups_per_token) * (nodes - 1) / nodes
    node_up = payload * copies * (n - 1.0) / n
    up = np.where(per_node, node_up, rank_up)
    out = np.where(per_node, node_out, rank_out)
    return up, out
