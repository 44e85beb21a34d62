"""Model-parallel layout of a training run and what it costs, from hardware figures.

A run on n GPUs is laid out as tensor t × pipeline p × context c GPUs per model replica and
d = n/(t·p·c) data-parallel replicas (Megatron-LM 3D parallelism; Narayanan et al. 2021,
arXiv:2104.04473).

**Default layout** (when the run gives none), the rule of Narayanan et al. 2021 §3
(takeaways 1-2: tensor parallelism up to the GPUs of a server, then pipeline parallelism
across servers; model parallelism only as large as it must be, data parallelism for the
rest). Two things force it:

- the batch: a data-parallel replica processes at least one whole sequence per step, so
  d <= B/s (B global batch tokens, s sequence length) and t·p·c >= n·s/B;
- memory: the least t·c at which one sequence's activations fit beside the ZeRO-3 state
  (:func:`gpuplan.compute.training_memory.memory_parallel_degrees`).

M = the larger of the two, rounded up to a power of two; c = memory's c (long sequences);
t = M/c up to min(8, scale-up domain) (an NVLink server), on a GPU whose scale-up bandwidth
is not in the catalog t = memory's t; p = the rest, at most L (one layer per stage).

**Costs**, in units of the step's ideal compute time (FLOPs per token × B ÷ (n × P)):

- tensor parallelism (Megatron with sequence parallelism, Korthikanti et al. 2022,
  arXiv:2205.05198 §4.2.2): per layer two all-gathers and two reduce-scatters of the bf16
  activations forward and the same backward (Megatron's "two all-reduces in the forward
  pass and two in the backward pass", Shoeybi et al. 2019, arXiv:1909.08053 §3; selective
  recomputation adds none, Korthikanti §5), each GPU sending (t − 1)/t of an h-wide bf16
  tensor per token per collective: 8 × 2·h·(t − 1)/t bytes per token per layer. A GPU holds
  L/p layers and sees B/(d·c) tokens per step, so the ratio to the ideal step is

      T_tp = 16·h·L·(t − 1)·P / (F · W)        (F FLOPs per token, W scale-up bytes/s)

  W is one direction of the catalog's scale-up bandwidth: NVIDIA's NVLink figure counts both
  directions (Hopper whitepaper: 18 links × 25 GB/s each way = 450 GB/s, "900 GB/s
  total"; Google states v5p's 1,200 GB/s as "bidirectional ICI bandwidth per chip").
  How much of it is exposed is the utilisation model's fitted fraction in [0, 1].
- pipeline bubble (interleaved 1F1B, Narayanan et al. 2021 §2.2): (p − 1)/(m·v) of the
  step's compute, with m = B/(s·d·b) micro-batches of b sequences (1 unless the source
  states it) per replica and v = ⌊L/(2·p)⌋ virtual stages of two layers per GPU (the
  practice of tuned configurations, :data:`LAYERS_PER_VIRTUAL_STAGE`). The point-to-point
  activation sends (2·s·h bytes per boundary per micro-batch, small beside the stage's
  compute) are not counted.
- data parallelism: the step communication of
  :mod:`gpuplan.compute.step_communication` over the d·c replicas of t·p GPUs that hold
  one copy of the parameters (or the memory minimum's ZeRO-3 group if larger).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gpuplan.compute.training_memory import memory_parallel_degrees
from gpuplan.errors import InputError
from gpuplan.humanize import count

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from gpuplan.catalog.gpus import GPU

SCALEUP_DIRECTIONS = 2.0
"""The catalog's scale-up bandwidth counts both directions (module docstring)."""
MAX_DEFAULT_TENSOR = 8.0
"""Largest default tensor-parallel degree: one NVLink server of 8 GPUs (Narayanan et al.
2021 §3.3: tensor parallelism up to the server's GPUs); a larger scale-up domain (NVL72,
TPU pods) is not used for wider tensor parallelism by default."""
TENSOR_COLLECTIVES_PER_LAYER = 8.0
"""All-gathers and reduce-scatters per layer per step: 4 forward, 4 backward (Megatron with
sequence parallelism; = 2 + 2 all-reduces)."""
ACTIVATION_BYTES = 2.0
"""bf16 activations exchanged by tensor parallelism (also in fp8 training)."""
LAYERS_PER_VIRTUAL_STAGE = 2.0
"""Layers per interleaved pipeline stage, the practice of tuned configurations: NVIDIA's
NeMo 25.11 DGX-H100 pre-training configs run Llama 3 70B at PP 8 × VP 5 (80 layers: 2 per
virtual stage) and Llama 3.1 405B at PP 8 × VP 8 (126 layers: about 2), GPT-3 175B at PP 8
× VP 12 in NeMo 24.07 (96 layers: 1) (NVIDIA-NeMo/Megatron-Bridge docs/performance-summary.md,
NVIDIA/NeMo performance_summary.md); Llama 3 interleaves its 16 stages too
(arXiv:2407.21783 §3.3.2)."""


def scaleup_bandwidth(gpu: GPU) -> float:
    """W: bytes/s per direction inside the scale-up domain, half the catalog's two-way
    figure (module docstring); NaN where the catalog has none."""
    return (gpu.scaleup_bandwidth_gbps or math.nan) * 1e9 / SCALEUP_DIRECTIONS


class ParallelLayout(NamedTuple):
    """Degrees of each row's layout (floats; d may be fractional where n is not divisible)."""

    tensor: NDArray[np.float64]
    pipeline: NDArray[np.float64]
    context: NDArray[np.float64]
    data: NDArray[np.float64]


def _power_of_two_at_least(value: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 2.0 ** np.ceil(np.log2(np.maximum(value, 1.0)))
    return result


def default_layout(
    *,
    gpus: ArrayLike,
    batch_sequences: ArrayLike,
    memory_tensor: ArrayLike,
    memory_context: ArrayLike,
    scaleup_domain: ArrayLike,
    num_layers: ArrayLike,
    has_scaleup_bandwidth: ArrayLike,
) -> ParallelLayout:
    """The layout a practitioner must use (module docstring): model parallelism M = the
    power of two >= max(n·s/B, memory's t·c), tensor first within the server, then
    pipeline. ``batch_sequences`` = B/s (inf: unknown spread, nothing forced)."""
    n = np.asarray(gpus, dtype=float)
    t_memory = np.asarray(memory_tensor, dtype=float)
    context = np.asarray(memory_context, dtype=float)
    forced = _power_of_two_at_least(n / np.asarray(batch_sequences, dtype=float))
    model = np.maximum(forced, t_memory * context)
    widest = np.where(
        np.asarray(has_scaleup_bandwidth, dtype=bool),
        np.minimum(MAX_DEFAULT_TENSOR, np.asarray(scaleup_domain, dtype=float)),
        t_memory,
    )
    tensor = np.maximum(np.minimum(model / context, widest), t_memory)
    layers = 2.0 ** np.floor(np.log2(np.maximum(np.asarray(num_layers, dtype=float), 1.0)))
    pipeline = np.clip(model / (tensor * context), 1.0, layers)
    return ParallelLayout(tensor, pipeline, context, n / (tensor * pipeline * context))


def tensor_communication(
    *,
    hidden_size: ArrayLike,
    num_layers: ArrayLike,
    tensor_parallel: ArrayLike,
    flops_per_token: ArrayLike,
    peak_flops: ArrayLike,
    scaleup_bandwidth: ArrayLike,
) -> NDArray[np.float64]:
    """T_tp: tensor-parallel traffic time ÷ the ideal step time, 16·h·L·(t − 1)·P/(F·W)
    (module docstring; W per direction, bytes/s). 0 at t = 1."""
    t = np.asarray(tensor_parallel, dtype=float)
    per_token = (
        TENSOR_COLLECTIVES_PER_LAYER
        * ACTIVATION_BYTES
        * np.asarray(hidden_size, dtype=float)
        * np.asarray(num_layers, dtype=float)
        * (t - 1.0)
    )
    with np.errstate(invalid="ignore"):
        ratio = (
            per_token
            * np.asarray(peak_flops, dtype=float)
            / (np.asarray(flops_per_token, dtype=float) * np.asarray(scaleup_bandwidth, float))
        )
    result: NDArray[np.float64] = np.where(t > 1.0, ratio, 0.0)
    return result


def virtual_stages(*, pipeline_parallel: ArrayLike, num_layers: ArrayLike) -> NDArray[np.float64]:
    """v: interleaved virtual stages per GPU, of LAYERS_PER_VIRTUAL_STAGE layers each (at
    least one stage)."""
    result: NDArray[np.float64] = np.maximum(
        1.0,
        np.floor(
            np.asarray(num_layers, dtype=float)
            / (LAYERS_PER_VIRTUAL_STAGE * np.asarray(pipeline_parallel, dtype=float))
        ),
    )
    return result


def pipeline_bubble(
    *, pipeline_parallel: ArrayLike, micro_batches: ArrayLike, num_layers: ArrayLike
) -> NDArray[np.float64]:
    """Interleaved 1F1B bubble as a share of the step's compute: (p − 1)/(m·v) (Narayanan
    et al. 2021 §2.2.1-2.2.2), m micro-batches per replica per step, v virtual stages per
    GPU (:func:`virtual_stages`)."""
    p = np.asarray(pipeline_parallel, dtype=float)
    result: NDArray[np.float64] = (p - 1.0) / (
        np.asarray(micro_batches, dtype=float)
        * virtual_stages(pipeline_parallel=p, num_layers=num_layers)
    )
    return result


class LayoutCosts(NamedTuple):
    """A run's layout and the costs it brings (module docstring)."""

    layout: ParallelLayout
    tensor_communication: NDArray[np.float64]
    """T_tp, a ratio to the ideal step."""
    pipeline_bubble: NDArray[np.float64]
    """(p − 1)/(m·v), a ratio to the step's compute."""
    gpus_per_replica: NDArray[np.float64]
    """GPUs holding one copy of the parameters (t·p, or the memory minimum if larger): the
    data-parallel communication's replica."""


def layout_costs(
    *,
    gpus: ArrayLike,
    global_batch_tokens: ArrayLike,
    seq_len: ArrayLike,
    params_total: ArrayLike,
    hidden_size: ArrayLike,
    num_layers: ArrayLike,
    vocab_size: ArrayLike,
    flops_per_token: ArrayLike,
    peak_flops: ArrayLike,
    gpu_memory_bytes: ArrayLike,
    scaleup_domain: ArrayLike,
    scaleup_bandwidth: ArrayLike,
    memory_minimum: ArrayLike,
    tensor_parallel: ArrayLike = np.nan,
    pipeline_parallel: ArrayLike = np.nan,
    context_parallel: ArrayLike = np.nan,
    micro_batch_sequences: ArrayLike = np.nan,
) -> LayoutCosts:
    """Each row's layout (the given degrees, 1 for a degree left out of a given layout; the
    default rule where none is given) and its costs. ``scaleup_bandwidth`` in bytes/s per
    direction, NaN where the catalog has none; ``global_batch_tokens`` inf = unknown spread
    (no batch-forced layout, no bubble); ``micro_batch_sequences`` NaN = 1 (the bubble's
    m = B/(s·d·b))."""
    n = np.asarray(gpus, dtype=float)
    sequences = np.asarray(global_batch_tokens, dtype=float) / np.asarray(seq_len, dtype=float)
    bandwidth = np.asarray(scaleup_bandwidth, dtype=float)
    memory_tensor, memory_context = memory_parallel_degrees(
        params_total=params_total,
        hidden_size=hidden_size,
        num_layers=num_layers,
        vocab_size=vocab_size,
        seq_len=seq_len,
        gpu_memory_bytes=gpu_memory_bytes,
        scaleup_domain=scaleup_domain,
        gpus=n,
    )
    rule = default_layout(
        gpus=n,
        batch_sequences=sequences,
        memory_tensor=memory_tensor,
        memory_context=memory_context,
        scaleup_domain=scaleup_domain,
        num_layers=num_layers,
        has_scaleup_bandwidth=np.isfinite(bandwidth),
    )
    given = [
        np.asarray(v, dtype=float) for v in (tensor_parallel, pipeline_parallel, context_parallel)
    ]
    stated = np.isfinite(given[0]) | np.isfinite(given[1]) | np.isfinite(given[2])
    tensor, pipeline, context = (
        np.where(stated, np.where(np.isnan(value), 1.0, value), default)
        for value, default in zip(given, rule[:3], strict=True)
    )
    data = n / (tensor * pipeline * context)
    minimum = np.asarray(memory_minimum, dtype=float)
    return LayoutCosts(
        layout=ParallelLayout(tensor, pipeline, context, data),
        tensor_communication=tensor_communication(
            hidden_size=hidden_size,
            num_layers=num_layers,
            tensor_parallel=tensor,
            flops_per_token=flops_per_token,
            peak_flops=peak_flops,
            scaleup_bandwidth=bandwidth,
        ),
        pipeline_bubble=pipeline_bubble(
            pipeline_parallel=pipeline,
            micro_batches=sequences
            / data
            / np.fmax(np.asarray(micro_batch_sequences, dtype=float), 1.0),
            num_layers=num_layers,
        ),
        gpus_per_replica=np.maximum(np.where(np.isfinite(minimum), minimum, n), tensor * pipeline),
    )


class GivenLayout(NamedTuple):
    """The degrees a run states; NaN: none given (the default layout)."""

    tensor: float = math.nan
    pipeline: float = math.nan
    context: float = math.nan


def given_layout(
    tensor_parallel: int | None, pipeline_parallel: int | None, context_parallel: int | None
) -> GivenLayout:
    """The degrees given (whole numbers of GPUs); all None = the default layout, and a degree
    left out of a given layout is 1."""
    given = {
        "tensor_parallel": tensor_parallel,
        "pipeline_parallel": pipeline_parallel,
        "context_parallel": context_parallel,
    }
    if all(value is None for value in given.values()):
        return GivenLayout()
    for field, value in given.items():
        if value is not None and not (math.isfinite(value) and value >= 1 and value == int(value)):
            raise InputError(field, f"must be a whole number of GPUs such as 4 (got {value}).")
    return GivenLayout(*(float(1 if value is None else value) for value in given.values()))


def layout_note(degrees: Sequence[float], default: bool) -> str:
    """The estimate's note on its layout (t, p, c, d on the P50's cluster)."""
    text = "layout tensor {:g} x pipeline {:g} x context {:g} x data {:,.4g}".format(*degrees)
    if default:
        text += (
            " (default: data parallelism up to the batch's sequences and memory, then tensor "
            "within the server, then pipeline; give --tensor-parallel ...)"
        )
    return text


def check_layout(
    layout: GivenLayout,
    *,
    gpus: float | None,
    gpu: GPU,
    num_layers: float,
    batch_sequences: float,
) -> None:
    """Raise InputError naming the rule a given layout breaks: t a power of two (it divides
    heads and width; p and c need not be: Nemotron-4 340B ran PP 12, MT-NLG PP 35), t within
    the scale-up domain (and a scale-up bandwidth to run it on), p <= layers, t·p·c dividing
    n, and d <= the batch's sequences (micro-batch of at least one sequence). Nothing to
    check for the default layout."""
    if math.isnan(layout.tensor):
        return
    tensor, pipeline, context = (int(degree) for degree in layout)
    scaleup_domain = gpu.scaleup_domain
    if tensor & (tensor - 1):
        raise InputError(
            "tensor_parallel",
            f"must be a power of two such as 1, 2, 4 or 8 (got {tensor}): it splits the "
            "attention heads and the hidden width.",
        )
    if gpus is None:
        raise InputError(
            "gpus",
            "a parallel layout needs the GPU count (data parallelism is n/(t·p·c)); give "
            "--gpus, or leave the layout out for the default.",
        )
    if tensor > scaleup_domain:
        raise InputError(
            "tensor_parallel",
            f"{tensor}-way tensor parallelism exceeds {gpu.id}'s scale-up domain of "
            f"{scaleup_domain} GPUs; use at most {scaleup_domain} and pipeline parallelism "
            "for the rest.",
        )
    if tensor > 1 and gpu.scaleup_bandwidth_gbps is None:
        raise InputError(
            "tensor_parallel",
            f"{gpu.id} has no scale-up bandwidth in the GPU catalog to run tensor parallelism "
            "on; use tensor_parallel 1 and pipeline parallelism.",
        )
    if pipeline > num_layers:
        raise InputError(
            "pipeline_parallel",
            f"{pipeline} stages for {num_layers:.0f} layers leave a stage without a layer; "
            f"use at most {num_layers:.0f}.",
        )
    model = tensor * pipeline * context
    if gpus % model:
        raise InputError(
            "gpus",
            f"{gpus:.0f} GPUs do not divide into replicas of t·p·c = {model} GPUs; use a "
            f"multiple of {model}.",
        )
    replicas = gpus / model
    if replicas > batch_sequences:
        raise InputError(
            "tensor_parallel",
            f"{count(replicas)} data-parallel replicas exceed the {count(batch_sequences)} "
            "sequences of the global batch (each replica needs at least one per step); "
            "raise tensor, pipeline or context parallelism, or the global batch.",
        )
