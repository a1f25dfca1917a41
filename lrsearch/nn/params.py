"""The flat parameter vector and its per-layer views; seeded initialisation.

Layer ``l`` maps ``sizes[l]`` inputs to ``sizes[l+1]`` outputs; its weights
``(n_in, n_out)`` (scikit-learn's ``coefs_`` layout) come first, then its bias.

>>> layout = Layout((4, 3, 2))
>>> theta = layout.initialise("he", seed=0, dtype=np.float64)
>>> [w.shape for w in layout.coefs(theta)], layout.n_params
([(4, 3), (3, 2)], 23)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lrsearch.exceptions import ConfigError

__all__ = ["Layout"]


class Layout:
    """Offsets of every layer's weights and bias in one flat vector."""

    def __init__(self, sizes: Sequence[int]):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.n_layers = len(self.sizes) - 1
        self.w_off: list[int] = []
        self.b_off: list[int] = []
        off = 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            self.w_off.append(off)
            off += int(n_in * n_out)
            self.b_off.append(off)
            off += int(n_out)
        self.n_params = off

    def layer_slice(self, layer: int) -> slice:
        """The slice of ``theta`` that holds layer ``layer`` (weights and bias)."""
        return slice(self.w_off[layer], self.b_off[layer] + int(self.sizes[layer + 1]))

    def coefs(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per-layer weight matrices, as views of ``theta``."""
        return [
            theta[w : w + int(a * b)].reshape(int(a), int(b))
            for w, a, b in zip(self.w_off, self.sizes[:-1], self.sizes[1:])
        ]

    def intercepts(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per-layer bias vectors, as views of ``theta``."""
        return [theta[o : o + int(b)] for o, b in zip(self.b_off, self.sizes[1:])]

    def pack(self, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], dtype: np.dtype) -> np.ndarray:
        """A new flat vector holding the given weights and biases (checked against the layout)."""
        if len(coefs) != self.n_layers or len(intercepts) != self.n_layers:
            raise ConfigError(
                f"init must hold {self.n_layers} weight matrices and {self.n_layers} bias vectors "
                f"for layer sizes {self.sizes.tolist()}; got {len(coefs)} and {len(intercepts)}."
            )
        theta = np.empty(self.n_params, dtype=dtype)
        for layer, (w, b) in enumerate(zip(coefs, intercepts)):
            shape = (int(self.sizes[layer]), int(self.sizes[layer + 1]))
            w = np.asarray(w)
            b = np.asarray(b)
            if w.shape != shape or b.shape != (shape[1],):
                raise ConfigError(
                    f"init layer {layer}: expected weights {shape} and bias ({shape[1]},), "
                    f"got {w.shape} and {b.shape}."
                )
            self.coefs(theta)[layer][...] = w
            self.intercepts(theta)[layer][...] = b
        if not np.all(np.isfinite(theta)):
            raise ConfigError("init holds non-finite values; pass finite weights and biases.")
        return theta

    def initialise(self, scheme: str, *, seed: int, dtype: np.dtype) -> np.ndarray:
        """Seeded He or Glorot uniform weights, zero biases.

        ``he``: U(±sqrt(6/fan_in)); ``glorot``: U(±sqrt(6/(fan_in+fan_out))).
        """
        rng = np.random.default_rng(seed)
        theta = np.zeros(self.n_params, dtype=dtype)
        for w in self.coefs(theta):
            fan_in, fan_out = w.shape
            if scheme == "he":
                bound = np.sqrt(6.0 / fan_in)
            elif scheme == "glorot":
                bound = np.sqrt(6.0 / (fan_in + fan_out))
            else:
                raise ConfigError(f"Unknown init scheme {scheme!r}; use 'auto', 'he', 'glorot' or (coefs, intercepts).")
            w[...] = rng.uniform(-bound, bound, size=w.shape)
        return theta
