"""The extra step time of a mixture-of-experts layer, from its shape and the network.

A routed expert is a small GEMM: each of E experts sees the tokens routed to it, and a token
travels to its k experts and back. Against a dense model of the same active FLOPs (which the
utilisation model's fitted terms describe) a MoE step pays, per token, in seconds:

1. **Expert GEMM shapes.** An expert of FFN width w holds 2 (plain) or 3 (gated) matrices of
   h × w. Per micro-batch it sees m_e = T·ep·k/E tokens (T tokens per GPU micro-batch, ep
   expert-parallel GPUs pooling their tokens, top-k of E experts). Its training GEMMs, equal
   in FLOPs: forward and input-gradient of reduction depth h or w with m_e rows padded to the
   kernel's row tile, weight-gradient of depth m_e. A GEMM of depth K runs at K/(K + k0) of
   the deep-GEMM rate (k0 = 490, DeepGEMM's H800 GEMMs, :mod:`serving_calibration`), so the
   experts take, per ideal FLOP,

       g(h, w, m_e) = [pad·(2 + k0/h + k0/w) + 1 + k0/m_e] / 3,   pad = ⌈m_e/tile⌉·tile/m_e

   and the excess over a dense MLP of the same width (g(h, 4h, ∞), what the fit already
   holds) costs share_experts·(g − g_dense) of ideal compute time. Grouping costs nothing
   more: DeepGEMM's contiguous grouped GEMMs (4,096-8,192 rows per group) run within 1% of
   the dense GEMM of the same K = 7,168 (launch README, H800 fp8, Feb 2025).
2. **Permutation through HBM.** Dispatch and combine write and read k copies of the hidden
   vector per token per MoE layer, forward and backward: 2 × 4·k·h activation values
   (the serving model's 4·k·h, :mod:`serving_memory`, twice), at a fraction of the HBM
   bandwidth (the permute kernels move small scattered rows).
3. **All-to-all.** With expert parallelism over ep GPUs, a routed copy leaves its GPU with
   probability 1 − 1/ep (uniform routing): over the scale-up link for the ep − 1 peers of
   its domain ((min(ep, d) − 1)/ep), over the network for the rest (1 − min(ep, d)/ep).
   Bytes per token per MoE layer: dispatch and combine of k·h bf16 values, forward and
   backward, 4·k·h·2 (Megatron-Core's all-to-all token dispatcher; DeepSeek-V3's fp8
   dispatch, arXiv:2412.19437 §3.3.2, is not modelled). Scale-up links run at one direction
   of the catalog's bidirectional ``scaleup_bandwidth_gbps``
   (:func:`gpuplan.compute.model_parallel.scaleup_bandwidth`), the network at
   ``scale_out_network.csv``. A
   stated fraction of it is exposed (1: on the critical path, Megatron-Core without
   overlap; 0: hidden, DeepSeek-V3's DualPipe, §3.2.1).

Shared experts see every token: they are dense GEMMs and cost what dense FLOPs cost. Router
FLOPs are in the model FLOPs; load imbalance is not modelled (no source in the data
quantifies it for its runs). Each cost is returned in units of the ideal compute time of a
token, FLOPs per token ÷ peak, like the data-parallel communication C.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gpuplan.compute.serving_calibration import default_calibration
from gpuplan.errors import InputError
from gpuplan.humanize import percent

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from gpuplan.catalog.gpus import GPU
    from gpuplan.compute.architecture import Architecture

DENSE_MLP_WIDTH_RATIO = 4.0
"""Reference dense MLP width ÷ hidden width (GPT-3, arXiv:2005.14165 §2.1) whose GEMM shapes
the fitted dense terms already price; the expert excess is measured against it."""
PERMUTE_VALUES_PER_ROUTED_COPY = 2.0 * 4.0
"""Activation values moved through HBM per routed copy of the hidden vector per MoE layer:
dispatch and combine each write and read it (4·k·h, the serving model's figure), forward and
backward (×2)."""


class MoEShape(NamedTuple):
    """Per-row MoE shape; ``experts`` 0 for a dense model (every cost is then 0)."""

    experts: NDArray[np.float64]
    """Routed experts per MoE layer (E)."""
    experts_per_token: NDArray[np.float64]
    """Routed experts a token is sent to (top-k)."""
    expert_width: NDArray[np.float64]
    """FFN hidden width of one routed expert (w)."""
    moe_layers: NDArray[np.float64]
    matrices: NDArray[np.float64]
    """Matrices per expert: 3 gated (SwiGLU), 2 plain."""


class MoELayout(NamedTuple):
    """How a MoE run is laid out (per row)."""

    expert_parallel: NDArray[np.float64]
    """ep: GPUs whose tokens one expert pools (1 = every GPU holds every expert)."""
    micro_batch_tokens: NDArray[np.float64]
    """T: tokens one GPU processes per micro-batch (one sequence by default)."""
    exposed_all_to_all: NDArray[np.float64]
    """Fraction (0-1) of the all-to-all time not hidden under compute."""


def moe_shape(
    *,
    experts: ArrayLike,
    experts_per_token: ArrayLike,
    expert_width: ArrayLike,
    moe_layers: ArrayLike,
    gated: ArrayLike = True,
) -> MoEShape:
    """Arrays of a MoE shape (``experts`` 0: dense)."""
    return MoEShape(
        experts=np.asarray(experts, dtype=float),
        experts_per_token=np.asarray(experts_per_token, dtype=float),
        expert_width=np.asarray(expert_width, dtype=float),
        moe_layers=np.asarray(moe_layers, dtype=float),
        matrices=np.where(np.asarray(gated, dtype=bool), 3.0, 2.0),
    )


def architecture_moe_shape(arch: Architecture) -> MoEShape:
    """The MoE shape of a catalog model or config.json (``experts`` 0 for a dense one)."""
    return moe_shape(
        experts=[arch.num_experts],
        experts_per_token=[arch.experts_per_token],
        expert_width=[arch.expert_intermediate_size],
        moe_layers=[arch.num_moe_layers],
        gated=[arch.mlp == "gated"],
    )


PARAMS_ONLY_EXPERTS_PER_TOKEN = 8.0
"""ASSUMPTION for a MoE known only by its parameter counts: top-8 routing, the fine-grained
layout of the MoEs released since 2024 (DeepSeek-V2/V3, Qwen3, Granite 3.0 MoE, OLMoE)."""


def params_only_moe_shape(
    params_total: ArrayLike, active_params: ArrayLike, hidden_size: ArrayLike, layers: ArrayLike
) -> MoEShape:
    """A MoE known by its total and active parameters: the active weights beyond the
    attention projections (4·h²·L) are routed experts of k = 8 gated matrices in every
    layer, w = (N_active − 4h²L)/(3·h·k·L), and E = k·(N_total − 4h²L)/(N_active − 4h²L).
    Dense rows (active = total) get E = 0."""
    total = np.asarray(params_total, dtype=float)
    active = np.asarray(active_params, dtype=float)
    h = np.asarray(hidden_size, dtype=float)
    depth = np.asarray(layers, dtype=float)
    attention = 4.0 * h * h * depth
    routed_active = np.maximum(active - attention, 0.1 * active)
    k = PARAMS_ONLY_EXPERTS_PER_TOKEN
    moe = active < total
    return moe_shape(
        experts=np.where(moe, k * (total - attention) / routed_active, 0.0),
        experts_per_token=np.where(moe, k, 0.0),
        expert_width=routed_active / (3.0 * h * k * depth),
        moe_layers=np.where(moe, depth, 0.0),
        gated=True,
    )


def tokens_per_expert(shape: MoEShape, layout: MoELayout) -> NDArray[np.float64]:
    """m_e = T·ep·k/E: rows one expert's GEMM sees per micro-batch (0 for a dense row)."""
    routed = layout.micro_batch_tokens * layout.expert_parallel * shape.experts_per_token
    result: NDArray[np.float64] = np.divide(
        routed, shape.experts, out=np.zeros_like(routed, dtype=float), where=shape.experts > 0
    )
    return result


def expert_gemm_time_factor(
    hidden_size: ArrayLike, expert_width: ArrayLike, rows: ArrayLike
) -> NDArray[np.float64]:
    """g(h, w, m_e): time of an expert's training GEMMs per ideal FLOP (module docstring);
    ``rows`` inf for a GEMM of unbounded rows (no padding, deep weight gradient)."""
    fixed = default_calibration().fixed
    k0, tile = fixed.gemm_depth_overhead, fixed.expert_gemm_row_tile
    h = np.asarray(hidden_size, dtype=float)
    w = np.asarray(expert_width, dtype=float)
    m = np.asarray(rows, dtype=float)
    finite = np.isfinite(m) & (m > 0)
    safe = np.where(finite, m, 1.0)
    pad = np.where(finite, np.ceil(safe / tile) * tile / safe, 1.0)
    weight_gradient = np.where(finite, k0 / safe, 0.0)
    result: NDArray[np.float64] = (pad * (2.0 + k0 / h + k0 / w) + 1.0 + weight_gradient) / 3.0
    return result


def routed_flops_per_token(shape: MoEShape, hidden_size: ArrayLike) -> NDArray[np.float64]:
    """Training FLOPs per token in routed experts: 6 × k × matrices·h·w × MoE layers."""
    result: NDArray[np.float64] = (
        6.0
        * shape.experts_per_token
        * shape.matrices
        * np.asarray(hidden_size, dtype=float)
        * shape.expert_width
        * shape.moe_layers
    )
    return result


def routed_copy_values(shape: MoEShape, hidden_size: ArrayLike) -> NDArray[np.float64]:
    """k·h·L_moe: activation values of a token's routed copies, all MoE layers."""
    result: NDArray[np.float64] = (
        shape.experts_per_token * np.asarray(hidden_size, dtype=float) * shape.moe_layers
    )
    return result


def permutation_cost(
    shape: MoEShape,
    hidden_size: ArrayLike,
    *,
    activation_bytes: float,
    memory_bandwidth: ArrayLike,
    peak_flops: ArrayLike,
    flops_per_token: ArrayLike,
) -> NDArray[np.float64]:
    """Dispatch/combine HBM traffic at the full HBM bandwidth ÷ ideal compute time (divide
    by the kernels' fraction of that bandwidth for their time)."""
    values = PERMUTE_VALUES_PER_ROUTED_COPY * routed_copy_values(shape, hidden_size)
    seconds = values * activation_bytes / np.asarray(memory_bandwidth, dtype=float)
    result: NDArray[np.float64] = (
        seconds * np.asarray(peak_flops, dtype=float) / np.asarray(flops_per_token, dtype=float)
    )
    return result


def all_to_all_bytes_per_token(
    shape: MoEShape, hidden_size: ArrayLike, activation_bytes: float
) -> NDArray[np.float64]:
    """Bytes a token's routed copies carry per step, all MoE layers: dispatch and combine,
    forward and backward, 4·k·h·b·L_moe (before the share that stays on its GPU)."""
    result: NDArray[np.float64] = 4.0 * activation_bytes * routed_copy_values(shape, hidden_size)
    return result


def all_to_all_cost(
    shape: MoEShape,
    layout: MoELayout,
    hidden_size: ArrayLike,
    *,
    activation_bytes: float,
    scaleup_domain: ArrayLike,
    scaleup_bandwidth: ArrayLike,
    network_bandwidth: ArrayLike,
    peak_flops: ArrayLike,
    flops_per_token: ArrayLike,
) -> NDArray[np.float64]:
    """Exposed all-to-all time ÷ ideal compute time. Bandwidths per GPU per direction,
    bytes/s; ``scaleup_domain`` d GPUs share the scale-up fabric (at the network's bandwidth
    where the catalog has no scale-up figure)."""
    ep = np.maximum(layout.expert_parallel, 1.0)
    inside = np.minimum(ep, np.asarray(scaleup_domain, dtype=float))
    over_link = (inside - 1.0) / ep
    over_network = 1.0 - inside / ep
    volume = all_to_all_bytes_per_token(shape, hidden_size, activation_bytes)
    network = np.asarray(network_bandwidth, dtype=float)
    link = np.asarray(scaleup_bandwidth, dtype=float) + np.zeros_like(over_link)
    link = np.where(np.isfinite(link) & (link > 0), link, network)  # no fabric figure
    seconds = volume * (
        np.divide(over_link, link, out=np.zeros_like(link), where=over_link > 0)
        + over_network / network
    )
    result: NDArray[np.float64] = (
        layout.exposed_all_to_all
        * seconds
        * np.asarray(peak_flops, dtype=float)
        / np.asarray(flops_per_token, dtype=float)
    )
    return result


def default_expert_parallel(
    experts: ArrayLike, scaleup_domain: ArrayLike, gpus: ArrayLike
) -> NDArray[np.float64]:
    """ep when a run states none: the experts spread over one scale-up domain,
    min(E, d, n), so the all-to-all stays on the scale-up fabric (AWS's MoE training guide,
    awslabs.github.io/accelerated-compute-tutorials, "MoE / Hybrid-EP Validation": "Why keep
    EP inside a node", EP = 8 on 8-GPU nodes); 1 for a dense row."""
    e = np.asarray(experts, dtype=float)
    spread = np.minimum(np.minimum(e, np.asarray(scaleup_domain, float)), np.asarray(gpus, float))
    result: NDArray[np.float64] = np.where(e > 0, np.maximum(spread, 1.0), 1.0)
    return result


def moe_layout(
    *,
    expert_parallel: ArrayLike,
    micro_batch_sequences: ArrayLike,
    seq_len: ArrayLike,
    exposed_all_to_all: ArrayLike,
    experts: ArrayLike,
    scaleup_domain: ArrayLike,
    gpus: ArrayLike,
) -> MoELayout:
    """A run's MoE layout with its defaults filled in: ``expert_parallel`` NaN =
    :func:`default_expert_parallel`, ``micro_batch_sequences`` NaN = one sequence."""
    ep = np.asarray(expert_parallel, dtype=float)
    sequences = np.asarray(micro_batch_sequences, dtype=float)
    return MoELayout(
        expert_parallel=np.where(
            np.isnan(ep), default_expert_parallel(experts, scaleup_domain, gpus), ep
        ),
        micro_batch_tokens=np.where(np.isnan(sequences), 1.0, sequences)
        * np.asarray(seq_len, dtype=float),
        exposed_all_to_all=np.asarray(exposed_all_to_all, dtype=float),
    )


def moe_step_costs(
    shape: MoEShape,
    layout: MoELayout,
    hidden_size: ArrayLike,
    *,
    flops_per_token: ArrayLike,
    peak_flops: ArrayLike,
    memory_bandwidth: ArrayLike,
    scaleup_domain: ArrayLike,
    scaleup_bandwidth: ArrayLike,
    network_bandwidth: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(M_g, M_o) of the utilisation model, in units of ideal compute time: M_g the routed
    experts' GEMM time at the dense rate, share·g(h, w, m_e), which the fit divides by the
    expert-GEMM efficiency η_e; M_o the permutation (at the serving calibration's fitted
    fraction of HBM bandwidth of the same kernels) plus the exposed all-to-all, less the
    dense-rate time share·g(h, 4h, ∞) of the experts' FLOPs that the dense terms already
    count. Both 0 for a dense row."""
    moe = shape.experts > 0
    if not np.any(moe):
        nothing: NDArray[np.float64] = np.zeros(np.shape(moe))
        return nothing, nothing
    h = np.asarray(hidden_size, dtype=float)
    share = routed_flops_per_token(shape, h) / np.asarray(flops_per_token, dtype=float)
    expert = expert_gemm_time_factor(
        h, np.maximum(shape.expert_width, 1.0), tokens_per_expert(shape, layout)
    )
    dense = expert_gemm_time_factor(h, DENSE_MLP_WIDTH_RATIO * h, np.inf)
    calibration = default_calibration()
    permutation = (
        permutation_cost(
            shape,
            h,
            activation_bytes=calibration.fixed.activation_bytes,
            memory_bandwidth=memory_bandwidth,
            peak_flops=peak_flops,
            flops_per_token=flops_per_token,
        )
        / calibration.fitted.dispatch_efficiency
    )
    exchange = all_to_all_cost(
        shape,
        layout,
        h,
        activation_bytes=calibration.fixed.activation_bytes,
        scaleup_domain=scaleup_domain,
        scaleup_bandwidth=scaleup_bandwidth,
        network_bandwidth=network_bandwidth,
        peak_flops=peak_flops,
        flops_per_token=flops_per_token,
    )
    gemm: NDArray[np.float64] = np.where(moe, share * expert, 0.0)
    other: NDArray[np.float64] = np.where(moe, permutation + exchange - share * dense, 0.0)
    return gemm, other


def check_moe_layout(
    expert_parallel: float | None, exposed_all_to_all: float
) -> tuple[float, float]:
    """(ep, exposed share) of a user's run, validated; ep NaN when not given (the default)."""
    if expert_parallel is None:
        ep = math.nan
    elif not (math.isfinite(expert_parallel) and expert_parallel >= 1):
        raise InputError(
            "expert_parallel", f"must be a GPU count of 1 or more (got {expert_parallel})."
        )
    elif expert_parallel != int(expert_parallel):
        raise InputError(
            "expert_parallel", f"must be a whole number of GPUs (got {expert_parallel:g})."
        )
    else:
        ep = float(expert_parallel)
    if not 0.0 <= exposed_all_to_all <= 1.0:
        raise InputError(
            "exposed_all_to_all",
            f"is a share of the all-to-all time, 0 (hidden, e.g. DeepSeek-V3's DualPipe) to 1 "
            f"(on the critical path, the default); got {exposed_all_to_all}.",
        )
    return ep, float(exposed_all_to_all)


def check_expert_parallel(expert_parallel: float, experts: float, gpus: float | None) -> None:
    """InputError unless a given ep fits the model and the cluster (NaN: not given)."""
    if math.isnan(expert_parallel):
        return
    if experts <= 0:
        raise InputError(
            "expert_parallel", "applies to a mixture-of-experts model; this one is dense."
        )
    if expert_parallel > experts:
        raise InputError(
            "expert_parallel",
            f"{expert_parallel:g} GPUs cannot share {experts:g} experts (one expert per GPU at "
            f"most here); use at most {experts:g}.",
        )
    if gpus is not None and expert_parallel > gpus:
        raise InputError("expert_parallel", f"exceeds the run's {gpus:g} GPUs.")


def moe_layout_note(
    shape: MoEShape, expert_parallel: float, exposed_all_to_all: float, gpu: GPU, gpus: float
) -> str:
    """What a one-row MoE estimate assumed about its experts and their layout."""
    given = not math.isnan(expert_parallel)
    default = default_expert_parallel(shape.experts[0], gpu.scaleup_domain, gpus)
    ep = expert_parallel if given else float(default)
    layout = "given" if given else "default: one scale-up domain; give expert_parallel"
    return (
        f"MoE: {shape.experts[0]:,.0f} experts, top-{shape.experts_per_token[0]:.0f}, expert "
        f"width {shape.expert_width[0]:,.0f}; expert parallel {ep:.0f} ({layout}); "
        f"all-to-all {percent(exposed_all_to_all)} exposed"
    )
