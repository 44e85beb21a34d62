"""Data-parallel communication per optimiser step, set from hardware figures (not fitted).

Each step, every data-parallel replica reduce-scatters its gradients and all-gathers its
updated parameters (ZeRO/FSDP; Rajbhandari et al. 2019, arXiv:1910.02054 §5; a plain
all-reduce moves the same bytes). Per GPU that is, over the network between scale-up
domains (NVLink nodes, TPU pods):

    t_comm = bytes / B_net + collectives × 2·log2(D) × α

- bytes = (4 + 2) bytes per parameter × N / max(m, d) × (1 − max(m, d)/n): gradients
  reduce-scattered in fp32 (Llama 3, arXiv:2407.21783 §3.3.2: "reduce-scatter gradients in
  FP32"), parameters all-gathered in bf16; a scale-up domain of d GPUs holds max(m, d)/m
  replicas whose shards it first reduces over NVLink, and its d network links share the
  domain's distinct bytes (N/max(m, d) each); nothing crosses the network when the run fits
  one domain (n <= max(m, d)). N: total parameters, m: GPUs per replica, n: GPUs.
- B_net: network bandwidth per GPU of the generation's reference system
  (``data/scale_out_network.csv``, each value cited to a datasheet or labelled an
  assumption).
- Latency: each collective over the D = n/m replicas takes 2·log2(D) network hops (NCCL's
  tree, whose latency grows with the logarithm of the rank count, chosen at scale over the
  ring's 2·(D − 1)), α = 6.6 µs per hop (NCCL's own latency model, ``src/graph/tuning.cc``,
  hwLat[NET][Ring][Simple]); one reduce-scatter and one all-gather per layer per step
  (FSDP's per-layer unit; Zhao et al. 2023, arXiv:2304.11277 §3).

In units of the step's ideal compute time t_ideal = FLOPs per token × B / (n × P) (global
batch B tokens, peak P) this is the ``communication`` input of the utilisation model, which
overlaps it with compute (:func:`gpuplan.compute.utilisation.inverse_mfu`): only what does
not fit under the step's compute, plus the first all-gather and last reduce-scatter (one
layer's share), is exposed.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from gpuplan.errors import InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

BYTES_PER_PARAMETER = 4.0 + 2.0
"""fp32 gradient reduce-scatter (Llama 3, arXiv:2407.21783 §3.3.2) + bf16 parameter
all-gather, bytes per parameter per step."""
COLLECTIVES_PER_LAYER = 2.0
"""One reduce-scatter and one all-gather per layer per step (FSDP wraps each layer)."""
NETWORK_HOP_LATENCY_S = 6.6e-6
"""α: seconds per network hop, counted over the tree's hops: NCCL's latency model's figure
for a network hop of its Simple protocol (github.com/NVIDIA/nccl src/graph/tuning.cc,
hwLat[NCCL_HW_NET][Ring][Simple] = 6.6 µs)."""
NETWORK_FILE = "scale_out_network.csv"


@cache
def network_bandwidth_by_generation() -> dict[str, float]:
    """Network bandwidth per GPU (bytes/s) of each generation's reference system."""
    text = (resources.files("gpuplan.compute") / "data" / NETWORK_FILE).read_text("utf-8")
    return {
        row["generation"]: float(row["gbps_per_gpu"]) * 1e9 / 8.0
        for row in csv.DictReader(text.splitlines())
    }


def network_bandwidth(generation: str) -> float:
    """Bytes/s per GPU between scale-up domains; InputError for a generation not listed."""
    table = network_bandwidth_by_generation()
    if generation not in table:
        raise InputError(
            "gpu",
            f"no scale-out network figure for the '{generation}' generation; add a row to "
            f"gpuplan/compute/data/{NETWORK_FILE} (listed: {', '.join(sorted(table))}).",
        )
    return table[generation]


def step_communication_seconds(
    *,
    params_total: ArrayLike,
    num_layers: ArrayLike,
    gpus: ArrayLike,
    gpus_per_replica: ArrayLike,
    scaleup_domain: ArrayLike,
    network_bandwidth: ArrayLike,
) -> NDArray[np.float64]:
    """t_comm per optimiser step (s): the bandwidth and tree-latency terms of the module
    docstring."""
    n = np.asarray(gpus, dtype=float)
    replica = np.minimum(np.maximum(np.asarray(gpus_per_replica, dtype=float), 1.0), n)
    domain = np.maximum(replica, np.asarray(scaleup_domain, dtype=float))
    crossing = np.clip(1.0 - domain / n, 0.0, None)
    volume = BYTES_PER_PARAMETER * np.asarray(params_total, dtype=float) / domain * crossing
    hops = 2.0 * np.log2(np.maximum(n / replica, 1.0)) * (crossing > 0)
    latency = COLLECTIVES_PER_LAYER * np.asarray(num_layers, dtype=float) * hops
    result: NDArray[np.float64] = (
        volume / np.asarray(network_bandwidth, dtype=float) + latency * NETWORK_HOP_LATENCY_S
    )
    return result
