"""The data stream shared by the single trainer and the population trainer.

Both must see the same batches in the same order for the same ``data_seed``, or a population member could
not follow the single-network trajectory.  Shuffling uses its own CPU generator so that it does not depend on
the device or on how many models draw from the global RNG.
"""

from __future__ import annotations

import torch


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Start/stop of each mini-batch; a last batch of one row is merged into the previous one.

    A batch of one row breaks batch normalisation in training mode and gives a gradient that is pure noise.
    """
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        (s0, _), _ = bounds[-2], bounds[-1]
        bounds = [*bounds[:-2], (s0, n)]
    return bounds


class EpochShuffler:
    """Yields one permutation of ``range(n)`` per epoch from a dedicated generator."""

    def __init__(self, n: int, data_seed: int) -> None:
        self.n = n
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(int(data_seed))

    def next_permutation(self) -> torch.Tensor:
        return torch.randperm(self.n, generator=self.generator)
