"""A slow, obvious NumPy reference for the training core (``lrsearch.nn``).

Everything here is float64, written from first principles and from the
algorithms documented for ``torch.optim`` / ``torch.optim.lr_scheduler``.
It shares no code with ``lrsearch`` on purpose: the tests compare the core
against it.  Clarity beats speed everywhere.

Contents
--------
* forward / loss / backward of a dense MLP (``forward``, ``loss``,
  ``loss_and_grad``) and central finite differences (``numerical_grad``);
* gradient transforms (``clip_by_value``, ``clip_by_global_norm``,
  ``normalize``);
* the optimizers (``make_optimizer``: sgd, momentum, nesterov, adagrad,
  rmsprop, adam, adamw);
* closed forms of the schedules (``schedule_rates``) and the
  ReduceLROnPlateau rule (``Plateau``, ``plateau_epoch_rates``);
* ``naive_train``: the whole training loop with ``shuffle`` off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = (
    "constant",
    "linear",
    "exponential",
    "inverse_time",
    "step",
    "cosine",
    "one_cycle",
)

# ----------------------------------------------------------------------------
# Initialisation (only used to make test inputs; the core's own init is not
# compared against this).
# ----------------------------------------------------------------------------


def init_params(layer_sizes, seed=0, scale=1.0):
    """Glorot-uniform weights and small random biases, float64.

    Biases are random (not zero) so that the bias gradients are exercised too.
    """
    rng = np.random.default_rng(seed)
    coefs, intercepts = [], []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        bound = scale * math.sqrt(6.0 / (n_in + n_out))
        coefs.append(rng.uniform(-bound, bound, size=(n_in, n_out)))
        intercepts.append(rng.uniform(-0.1, 0.1, size=n_out))
    return coefs, intercepts


def make_data(task, n_rows=37, n_features=5, n_outputs=3, seed=0):
    """Small random problem: standard-normal X; labels 0..n_outputs-1 (every class
    present) or targets of shape (n,) when n_outputs == 1, else (n, n_outputs)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    if task == "classification":
        y = np.arange(n_rows) % n_outputs
        rng.shuffle(y)
        return X, y.astype(np.int64)
    W = rng.normal(size=(n_features, n_outputs))
    Y = np.tanh(X @ W) + 0.1 * rng.normal(size=(n_rows, n_outputs))
    return X, (Y[:, 0] if n_outputs == 1 else Y)


def copy_params(coefs, intercepts):
    return [np.array(c, dtype=np.float64) for c in coefs], [
        np.array(b, dtype=np.float64) for b in intercepts
    ]


# ----------------------------------------------------------------------------
# Forward
# ----------------------------------------------------------------------------


def activate(z, name):
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "identity":
        return z.copy()
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(z, name):
    """d activation(z) / dz, element-wise."""
    if name == "relu":
        return np.where(z > 0, 1.0, 0.0)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if name == "identity":
        return np.ones_like(z)
    raise ValueError(f"unknown activation {name!r}")


def forward_all(X, coefs, intercepts, activation):
    """Return (pre-activations Z_l, layer inputs A_l) for every layer.

    ``inputs[l]`` is the input of layer l (``inputs[0] = X``); ``zs[l]`` is
    ``inputs[l] @ W_l + b_l``.  The last layer has no activation here (the
    loss applies softmax or identity).
    """
    A = np.asarray(X, dtype=np.float64)
    inputs, zs = [], []
    n_layers = len(coefs)
    for k in range(n_layers):
        inputs.append(A)
        Z = A @ coefs[k] + intercepts[k]
        zs.append(Z)
        if k < n_layers - 1:
            A = activate(Z, activation)
    return zs, inputs


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward(X, coefs, intercepts, *, task, activation):
    """Network output: class probabilities (classification) or predictions."""
    zs, _ = forward_all(X, coefs, intercepts, activation)
    if task == "classification":
        return softmax(zs[-1])
    return zs[-1]


def predict(X, coefs, intercepts, *, task, activation):
    out = forward(X, coefs, intercepts, task=task, activation=activation)
    if task == "classification":
        return out.argmax(axis=1)
    return out


def _targets(y, task, n_out):
    y = np.asarray(y)
    if task == "classification":
        labels = y.astype(np.int64).ravel()
        onehot = np.zeros((labels.shape[0], n_out))
        onehot[np.arange(labels.shape[0]), labels] = 1.0
        return onehot
    Y = y.astype(np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    return Y


def _loss_from_output(z_out, T, task):
    """Mean loss of the last pre-activation z_out against targets T."""
    n = z_out.shape[0]
    if task == "classification":
        # cross-entropy = logsumexp(z) - z[label], via a stable log-sum-exp
        m = z_out.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(z_out - m).sum(axis=1, keepdims=True))).ravel()
        picked = (z_out * T).sum(axis=1)
        return float(np.sum(lse - picked) / n)
    diff = z_out - T
    return float(np.sum(diff * diff) / diff.size)


def loss(X, y, coefs, intercepts, *, task, activation, n_classes=None):
    zs, _ = forward_all(X, coefs, intercepts, activation)
    T = _targets(y, task, coefs[-1].shape[1])
    return _loss_from_output(zs[-1], T, task)


# ----------------------------------------------------------------------------
# Backward (by hand, one layer at a time)
# ----------------------------------------------------------------------------


def loss_and_grad(X, y, coefs, intercepts, *, task, activation, n_classes=None):
    """Mean loss over the rows of X and its gradient w.r.t. every W_l and b_l."""
    coefs = [np.asarray(c, dtype=np.float64) for c in coefs]
    intercepts = [np.asarray(b, dtype=np.float64) for b in intercepts]
    zs, inputs = forward_all(X, coefs, intercepts, activation)
    z_out = zs[-1]
    T = _targets(y, task, coefs[-1].shape[1])
    value = _loss_from_output(z_out, T, task)
    n = z_out.shape[0]

    # dLoss/dz_out
    if task == "classification":
        delta = (softmax(z_out) - T) / n
    else:
        delta = 2.0 * (z_out - T) / z_out.size

    n_layers = len(coefs)
    grad_coefs = [None] * n_layers
    grad_intercepts = [None] * n_layers
    for k in range(n_layers - 1, -1, -1):
        grad_coefs[k] = inputs[k].T @ delta
        grad_intercepts[k] = delta.sum(axis=0)
        if k > 0:
            d_input = delta @ coefs[k].T
            delta = d_input * activation_derivative(zs[k - 1], activation)
    return value, grad_coefs, grad_intercepts


def numerical_grad(f, coefs, intercepts, eps=1e-6):
    """Central finite differences of the scalar f(coefs, intercepts)."""
    coefs = [np.array(c, dtype=np.float64) for c in coefs]
    intercepts = [np.array(b, dtype=np.float64) for b in intercepts]
    out_c = [np.zeros_like(c) for c in coefs]
    out_b = [np.zeros_like(b) for b in intercepts]
    for arrays, outs in ((coefs, out_c), (intercepts, out_b)):
        for arr, out in zip(arrays, outs):
            flat, flat_out = arr.reshape(-1), out.reshape(-1)
            for i in range(flat.size):
                keep = flat[i]
                flat[i] = keep + eps
                plus = f(coefs, intercepts)
                flat[i] = keep - eps
                minus = f(coefs, intercepts)
                flat[i] = keep
                flat_out[i] = (plus - minus) / (2.0 * eps)
    return out_c, out_b


# ----------------------------------------------------------------------------
# Gradient transforms.  A "gradient" here is a list of arrays.
# ----------------------------------------------------------------------------


def global_norm(grads):
    return math.sqrt(sum(float(np.sum(g * g)) for g in grads))


def clip_by_value(grads, c):
    return [np.minimum(np.maximum(g, -c), c) for g in grads]


def clip_by_global_norm(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_: coef = max_norm/(norm+1e-6), clamped at 1.

    Returns (grads, active) where active tells whether the gradient was scaled.
    """
    norm = global_norm(grads)
    coef = max_norm / (norm + 1e-6)
    if coef < 1.0:
        return [g * coef for g in grads], True
    return [g.copy() for g in grads], False


def normalize(grads):
    norm = global_norm(grads)
    if norm > 0:
        return [g / norm for g in grads]
    return [g.copy() for g in grads]


# ----------------------------------------------------------------------------
# Optimizers, following the pseudo-code in the torch.optim documentation.
# Each acts on a list of parameter arrays, with one rate per array (the
# layer-wise multiplier is folded into that rate by the caller).
# ----------------------------------------------------------------------------

OPTIMIZER_DEFAULTS = {
    "sgd": dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
    "momentum": dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0),
    "nesterov": dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.0),
    "adagrad": dict(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    "rmsprop": dict(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    "adam": dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
    "adamw": dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
}


class SGD:
    """torch.optim.SGD."""

    def __init__(self, params, momentum, dampening, nesterov, weight_decay):
        self.mu, self.tau, self.nesterov, self.wd = momentum, dampening, nesterov, weight_decay
        self.buf = [None for _ in params]
        self.t = 0

    def step(self, params, grads, rates):
        self.t += 1
        for i, (p, g0, lr) in enumerate(zip(params, grads, rates)):
            g = g0.copy()
            if self.wd != 0:
                g = g + self.wd * p
            if self.mu != 0:
                if self.t > 1:
                    self.buf[i] = self.mu * self.buf[i] + (1.0 - self.tau) * g
                else:
                    self.buf[i] = g.copy()
                if self.nesterov:
                    g = g + self.mu * self.buf[i]
                else:
                    g = self.buf[i]
            p -= lr * g


class Adagrad:
    """torch.optim.Adagrad."""

    def __init__(self, params, lr_decay, weight_decay, initial_accumulator_value, eps):
        self.lr_decay, self.wd, self.eps = lr_decay, weight_decay, eps
        self.state_sum = [np.full_like(p, initial_accumulator_value) for p in params]
        self.t = 0

    def step(self, params, grads, rates):
        self.t += 1
        for i, (p, g0, lr) in enumerate(zip(params, grads, rates)):
            clr = lr / (1.0 + (self.t - 1) * self.lr_decay)
            g = g0.copy()
            if self.wd != 0:
                g = g + self.wd * p
            self.state_sum[i] = self.state_sum[i] + g * g
            p -= clr * g / (np.sqrt(self.state_sum[i]) + self.eps)


class RMSprop:
    """torch.optim.RMSprop."""

    def __init__(self, params, alpha, eps, weight_decay, momentum, centered):
        self.alpha, self.eps, self.wd, self.mu, self.centered = (
            alpha, eps, weight_decay, momentum, centered)
        self.v = [np.zeros_like(p) for p in params]
        self.g_ave = [np.zeros_like(p) for p in params]
        self.buf = [np.zeros_like(p) for p in params]

    def step(self, params, grads, rates):
        a = self.alpha
        for i, (p, g0, lr) in enumerate(zip(params, grads, rates)):
            g = g0.copy()
            if self.wd != 0:
                g = g + self.wd * p
            self.v[i] = a * self.v[i] + (1.0 - a) * g * g
            v_tilde = self.v[i]
            if self.centered:
                self.g_ave[i] = a * self.g_ave[i] + (1.0 - a) * g
                v_tilde = v_tilde - self.g_ave[i] ** 2
            if self.mu > 0:
                self.buf[i] = self.mu * self.buf[i] + g / (np.sqrt(v_tilde) + self.eps)
                p -= lr * self.buf[i]
            else:
                p -= lr * g / (np.sqrt(v_tilde) + self.eps)


class Adam:
    """torch.optim.Adam (decoupled=False) and torch.optim.AdamW (decoupled=True)."""

    def __init__(self, params, betas, eps, weight_decay, amsgrad, decoupled):
        self.b1, self.b2 = float(betas[0]), float(betas[1])
        self.eps, self.wd, self.amsgrad, self.decoupled = eps, weight_decay, amsgrad, decoupled
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.v_max = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads, rates):
        self.t += 1
        t, b1, b2 = self.t, self.b1, self.b2
        for i, (p, g0, lr) in enumerate(zip(params, grads, rates)):
            g = g0.copy()
            if self.decoupled:
                p -= lr * self.wd * p  # theta <- theta - lr * lambda * theta
            elif self.wd != 0:
                g = g + self.wd * p
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g
            m_hat = self.m[i] / (1.0 - b1**t)
            if self.amsgrad:
                self.v_max[i] = np.maximum(self.v_max[i], self.v[i])
                v_hat = self.v_max[i] / (1.0 - b2**t)
            else:
                v_hat = self.v[i] / (1.0 - b2**t)
            p -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


def resolve_optimizer_params(name, optimizer_params=None):
    if name not in OPTIMIZER_DEFAULTS:
        raise ValueError(f"unknown optimizer {name!r}")
    opts = dict(OPTIMIZER_DEFAULTS[name])
    for key, value in (optimizer_params or {}).items():
        if key not in opts:
            raise ValueError(f"{name} has no option {key!r}")
        opts[key] = value
    return opts


def make_optimizer(name, params, optimizer_params=None):
    opts = resolve_optimizer_params(name, optimizer_params)
    if name in ("sgd", "momentum", "nesterov"):
        return SGD(params, **opts)
    if name == "adagrad":
        return Adagrad(params, **opts)
    if name == "rmsprop":
        return RMSprop(params, **opts)
    return Adam(params, decoupled=(name == "adamw"), **opts)


# ----------------------------------------------------------------------------
# Schedules: closed forms, one rate per unit (epoch or step) of the main
# schedule, then warm-up in front, then expansion to per-step rates.
# ----------------------------------------------------------------------------


def one_cycle_rate(t, total, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    """torch OneCycleLR, anneal_strategy='cos', three_phase=False, at step t."""
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor

    def cos_anneal(start, end, pct):
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)

    end_up = float(pct_start * total) - 1.0
    end_down = float(total - 1)
    if t <= end_up:
        return cos_anneal(initial_lr, max_lr, t / end_up)
    return cos_anneal(max_lr, min_lr, (t - end_up) / (end_down - end_up))


def one_cycle_momentum(t, total, pct_start=0.3, base_momentum=0.85, max_momentum=0.95):
    """torch OneCycleLR's momentum (cycle_momentum=True, 'cos'): max -> base while the rate rises, then back."""

    def cos_anneal(start, end, pct):
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)

    end_up = float(pct_start * total) - 1.0
    end_down = float(total - 1)
    if t <= end_up:
        return cos_anneal(max_momentum, base_momentum, t / end_up)
    return cos_anneal(base_momentum, max_momentum, (t - end_up) / (end_down - end_up))


def main_schedule_rate(name, lr, t, horizon, **p):
    """Rate of schedule `name` at unit t (0-based), with `horizon` units in all."""
    if name == "constant":
        return lr
    if name == "linear":
        s = p.get("start_factor", 1.0)
        e = p.get("end_factor", 0.0)
        n = p.get("total_iters") or horizon
        return lr * (s + (e - s) * min(t, n) / n)
    if name == "exponential":
        return lr * p.get("gamma", 0.95) ** t
    if name == "inverse_time":
        return lr / (1.0 + p.get("decay_rate", 0.1) * t)
    if name == "step":
        return lr * p.get("gamma", 0.5) ** (t // p.get("step_size", 10))
    if name == "cosine":
        big_t = p.get("T_max") or horizon
        eta_min = p.get("eta_min", 0.0)
        return eta_min + (lr - eta_min) * (1.0 + math.cos(math.pi * min(t, big_t) / big_t)) / 2.0
    if name == "one_cycle":
        return one_cycle_rate(
            t,
            horizon,
            lr,
            pct_start=p.get("pct_start", 0.3),
            div_factor=p.get("div_factor", 25.0),
            final_div_factor=p.get("final_div_factor", 1e4),
        )
    raise ValueError(f"unknown schedule {name!r}")


def warmup_factor(t, warmup, warmup_start_factor):
    return warmup_start_factor + (1.0 - warmup_start_factor) * t / warmup


def unit_rates(name, lr, n_units, warmup=0, warmup_start_factor=1.0 / 3.0, **params):
    """Per-unit rates: warm-up for the first `warmup` units, then the schedule."""
    rates = []
    for u in range(n_units):
        if u < warmup:
            rates.append(lr * warmup_factor(u, warmup, warmup_start_factor))
        else:
            rates.append(main_schedule_rate(name, lr, u - warmup, n_units - warmup, **params))
    return np.array(rates, dtype=np.float64)


def schedule_rates(name, lr, *, steps_per_epoch, epochs, interval=None, warmup=0,
                   warmup_start_factor=1.0 / 3.0, **params):
    """Per-step rates (length steps_per_epoch * epochs) of a closed-form schedule."""
    if interval is None:
        interval = "step" if name == "one_cycle" else "epoch"
    if interval == "step":
        return unit_rates(name, lr, steps_per_epoch * epochs, warmup, warmup_start_factor,
                          **params)
    per_epoch = unit_rates(name, lr, epochs, warmup, warmup_start_factor, **params)
    return np.repeat(per_epoch, steps_per_epoch)


class Plateau:
    """torch.optim.lr_scheduler.ReduceLROnPlateau, mode='min', threshold_mode='rel'."""

    def __init__(self, lr, factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0,
                 eps=1e-8):
        self.lr = lr
        self.factor, self.patience, self.threshold = factor, patience, threshold
        self.cooldown, self.min_lr, self.eps = cooldown, min_lr, eps
        self.best = math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def step(self, metric):
        metric = float(metric)
        if metric < self.best * (1.0 - self.threshold):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr


def plateau_epoch_rates(lr, metrics, *, warmup=0, warmup_start_factor=1.0 / 3.0, **params):
    """Per-epoch rates of ReduceLROnPlateau fed the per-epoch `metrics`.

    Epoch e uses the rate decided after observing metrics[e-1].  Warm-up epochs
    use the warm-up factor; the plateau rule starts at epoch `warmup` with rate
    lr and observes the metrics of epochs warmup, warmup+1, ...
    """
    rates = []
    sched = Plateau(lr, **params)
    for e in range(len(metrics)):
        if e < warmup:
            rates.append(lr * warmup_factor(e, warmup, warmup_start_factor))
            continue
        rates.append(sched.lr)
        sched.step(metrics[e])
    return np.array(rates, dtype=np.float64)


# ----------------------------------------------------------------------------
# The training loop.
# ----------------------------------------------------------------------------


@dataclass
class NaiveResult:
    coefs: list
    intercepts: list
    batch_losses: list = field(default_factory=list)  # per step, measured before the update
    train_loss: np.ndarray = None  # per epoch, row-weighted mean of the batch losses
    clip_value_active: list = field(default_factory=list)  # per step: any element clipped
    clip_norm_active: list = field(default_factory=list)  # per step: norm clipping scaled g
    grad_norms: list = field(default_factory=list)  # per step, before any transform


def naive_train(X, y, coefs, intercepts, *, task, activation, optimizer, lr_per_step,
                optimizer_params=None, batch_size, epochs, clip_norm=None, clip_value=None,
                normalize_grad=False, layer_lrs=None, n_classes=None, momentum_per_step=None):
    """Train with shuffle off: batches are rows [0:bs], [bs:2bs], ... every epoch.

    ``lr_per_step`` gives the base rate of every step (length steps * epochs);
    ``momentum_per_step``, if given, the momentum (SGD, RMSprop) or beta1 (Adam)
    of every step, set on the optimizer before its step as torch's OneCycleLR
    sets the param group's ``momentum`` / ``betas[0]``.
    Returns a NaiveResult (float64 parameters, per-step and per-epoch losses).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    coefs, intercepts = copy_params(coefs, intercepts)
    n_layers = len(coefs)
    if layer_lrs is None:
        layer_lrs = [1.0] * n_layers
    assert len(layer_lrs) == n_layers
    n = X.shape[0]
    starts = list(range(0, n, batch_size))
    lr_per_step = np.asarray(lr_per_step, dtype=np.float64)
    assert lr_per_step.shape[0] == len(starts) * epochs, (lr_per_step.shape, len(starts), epochs)

    # parameter order: W_0, b_0, W_1, b_1, ...  (the rate multiplier follows the layer)
    params = []
    param_layer = []
    for k in range(n_layers):
        params += [coefs[k], intercepts[k]]
        param_layer += [k, k]
    opt = make_optimizer(optimizer, params, optimizer_params)
    result = NaiveResult(coefs=coefs, intercepts=intercepts)
    epoch_losses = []
    step = 0
    for _ in range(epochs):
        losses = []
        for s in starts:
            Xb, yb = X[s:s + batch_size], y[s:s + batch_size]
            value, gc, gb = loss_and_grad(Xb, yb, coefs, intercepts, task=task,
                                          activation=activation, n_classes=n_classes)
            losses.append(value)
            grads = []
            for k in range(n_layers):
                grads += [gc[k], gb[k]]
            result.grad_norms.append(global_norm(grads))
            if clip_value is not None:
                result.clip_value_active.append(
                    any(bool(np.any(np.abs(g) > clip_value)) for g in grads))
                grads = clip_by_value(grads, clip_value)
            if clip_norm is not None:
                grads, active = clip_by_global_norm(grads, clip_norm)
                result.clip_norm_active.append(active)
            if normalize_grad:
                grads = normalize(grads)
            rates = [lr_per_step[step] * layer_lrs[param_layer[i]] for i in range(len(params))]
            if momentum_per_step is not None:
                if isinstance(opt, Adam):
                    opt.b1 = float(momentum_per_step[step])
                else:
                    opt.mu = float(momentum_per_step[step])
            opt.step(params, grads, rates)  # updates coefs / intercepts in place
            step += 1
        result.batch_losses += losses
        # mean over the epoch's rows: each batch loss weighted by its size
        sizes = [min(batch_size, n - s) for s in starts]
        epoch_losses.append(float(np.dot(losses, sizes) / n))
    result.train_loss = np.array(epoch_losses)
    return result


def sklearn_stop_epoch(losses, tol, n_iter_no_change):
    """scikit-learn's MLP stop without early stopping (``_update_no_improvement_count``), replayed on a curve:
    the first epoch (1-based) after more than ``n_iter_no_change`` epochs in a row that did not bring the loss
    ``tol`` below its running minimum, or None."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


# ----------------------------------------------------------------------------
# Sample weights, as scikit-learn 1.9's MLP defines them: the loss of a batch
# is the weighted mean sum_i w_i l_i / sum_i w_i of its rows' own losses.
# ----------------------------------------------------------------------------


def row_losses(X, y, coefs, intercepts, *, task, activation):
    """The loss of every row on its own: cross-entropy, or the squared error averaged over the outputs."""
    zs, _ = forward_all(X, coefs, intercepts, activation)
    T = _targets(y, task, coefs[-1].shape[1])
    return np.array([_loss_from_output(zs[-1][i:i + 1], T[i:i + 1], task) for i in range(T.shape[0])])


def weighted_loss(X, y, w, coefs, intercepts, *, task, activation):
    """sum_i w_i l_i / sum_i w_i."""
    w = np.asarray(w, dtype=np.float64)
    losses = row_losses(X, y, coefs, intercepts, task=task, activation=activation)
    return float(np.sum(w * losses) / np.sum(w))


def weighted_loss_and_grad(X, y, w, coefs, intercepts, *, task, activation):
    """The weighted mean loss and its gradient, as the weighted sum of every row's own gradient / sum w."""
    w = np.asarray(w, dtype=np.float64)
    total = float(np.sum(w))
    grad_c = [np.zeros_like(np.asarray(c, dtype=np.float64)) for c in coefs]
    grad_b = [np.zeros_like(np.asarray(b, dtype=np.float64)) for b in intercepts]
    for i in range(np.asarray(X).shape[0]):
        _, gc, gb = loss_and_grad(np.asarray(X)[i:i + 1], np.asarray(y)[i:i + 1], coefs, intercepts, task=task,
                                  activation=activation)
        for k in range(len(coefs)):
            grad_c[k] += (w[i] / total) * gc[k]
            grad_b[k] += (w[i] / total) * gb[k]
    return weighted_loss(X, y, w, coefs, intercepts, task=task, activation=activation), grad_c, grad_b


def naive_train_weighted(X, y, w, coefs, intercepts, *, task, activation, optimizer, lr, batch_size, epochs,
                         optimizer_params=None, opt=None):
    """Weighted training with shuffle off at a constant rate: batches are rows [0:bs], [bs:2bs], ...

    ``w=None`` weighs every row 1. ``opt`` continues an optimizer returned by an earlier call (a stream of
    ``partial_fit`` calls is one call per chunk with ``epochs=1``). Returns ``(coefs, intercepts,
    epoch_losses, opt)``; an epoch's loss is the weighted mean of its rows' losses, each measured before
    its batch's update.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    w = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
    coefs, intercepts = copy_params(coefs, intercepts)
    params = []
    for k in range(len(coefs)):
        params += [coefs[k], intercepts[k]]
    if opt is None:
        opt = make_optimizer(optimizer, params, optimizer_params)
    epoch_losses = []
    for _ in range(epochs):
        loss_sum, weight_sum = 0.0, 0.0
        for s in range(0, X.shape[0], batch_size):
            sl = slice(s, s + batch_size)
            value, gc, gb = weighted_loss_and_grad(X[sl], y[sl], w[sl], coefs, intercepts, task=task,
                                                   activation=activation)
            loss_sum += value * w[sl].sum()
            weight_sum += w[sl].sum()
            grads = []
            for k in range(len(coefs)):
                grads += [gc[k], gb[k]]
            opt.step(params, grads, [lr] * len(params))
        epoch_losses.append(loss_sum / weight_sum)
    return coefs, intercepts, np.array(epoch_losses), opt
