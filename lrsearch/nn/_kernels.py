"""All Numba-compiled code of lrsearch, and nothing else.

Numba's on-disk cache is keyed on the defining file: a cached kernel that calls
a kernel from another file keeps the old compiled callee after that file
changes. So every ``@njit`` function lives here, selected by integer codes
(never strings or callables, which defeat ``cache=True``), over preallocated
C-contiguous arrays. Validation and explanations live in the Python wrappers
(:mod:`lrsearch.nn.training`); inside a kernel an error message cannot show a
value.

Parameter layout: one flat vector ``theta``; layer ``l`` (``sizes[l] ->
sizes[l+1]``) holds its weight matrix (row-major, shape ``(n_in, n_out)``, the
layout of scikit-learn's ``coefs_``) followed by its bias ``(n_out,)``.
Gradients and every optimizer state row share that layout.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Activation codes (hidden layers).
ACT_IDENTITY = 0
ACT_RELU = 1
ACT_TANH = 2
ACT_SIGMOID = 3

# Loss codes (output layer).
LOSS_XENT = 0  # softmax + mean cross-entropy
LOSS_MSE = 1  # linear + mean squared error over batch and outputs

# Optimizer codes.
OPT_SGD = 0
OPT_ADAGRAD = 1
OPT_RMSPROP = 2
OPT_ADAM = 3

# Index of each hyper-parameter in the ``hp`` float64 vector.
HP_MOMENTUM = 0
HP_DAMPENING = 1
HP_NESTEROV = 2
HP_WEIGHT_DECAY = 3
HP_EPS = 4
HP_BETA1 = 5  # Adam beta1; RMSprop alpha
HP_BETA2 = 6
HP_FLAG = 7  # Adam amsgrad; RMSprop centered
HP_LR_DECAY = 8  # Adagrad
HP_DECOUPLED = 9  # AdamW
N_HP = 10

# Rows of the optimizer ``state`` matrix (shape (N_STATE, n_params)).
ST_BUF = 0  # SGD momentum buffer; Adam m; RMSprop momentum buffer
ST_SQ = 1  # Adagrad sum; RMSprop square average; Adam v
ST_AUX = 2  # Adam max v (amsgrad); RMSprop grad average (centered)
N_STATE = 3

# Status codes returned by the epoch kernel.
STATUS_OK = 0
STATUS_NONFINITE_LOSS = 1
STATUS_EXPLODED = 2
STATUS_NONFINITE_PARAMS = 3


@njit(cache=True, nogil=True, error_model="numpy")
def _layer_views(theta, sizes, layer):
    """Weight matrix and bias vector of ``layer`` as views of ``theta``."""
    off = 0
    for k in range(layer):
        off += sizes[k] * sizes[k + 1] + sizes[k + 1]
    n_in = sizes[layer]
    n_out = sizes[layer + 1]
    W = theta[off : off + n_in * n_out].reshape((n_in, n_out))
    b = theta[off + n_in * n_out : off + n_in * n_out + n_out]
    return W, b


@njit(cache=True, nogil=True, error_model="numpy")
def _act_view(acts, sizes, layer, nb):
    """Rows ``:nb`` of the activation buffer of ``layer`` (1-based, output = L)."""
    cap = acts.shape[0]
    bs = cap // _sum_widths(sizes)
    off = 0
    for k in range(1, layer):
        off += bs * sizes[k]
    w = sizes[layer]
    return acts[off : off + nb * w].reshape((nb, w))


@njit(cache=True, nogil=True, error_model="numpy")
def _sum_widths(sizes):
    s = 0
    for k in range(1, sizes.shape[0]):
        s += sizes[k]
    return s


@njit(cache=True, nogil=True, error_model="numpy")
def _activate(Z, act):
    if act == ACT_RELU:
        for i in range(Z.shape[0]):
            for j in range(Z.shape[1]):
                if Z[i, j] < 0.0:
                    Z[i, j] = 0.0
    elif act == ACT_TANH:
        for i in range(Z.shape[0]):
            for j in range(Z.shape[1]):
                Z[i, j] = math.tanh(Z[i, j])
    elif act == ACT_SIGMOID:
        for i in range(Z.shape[0]):
            for j in range(Z.shape[1]):
                z = Z[i, j]
                if z >= 0.0:
                    Z[i, j] = 1.0 / (1.0 + math.exp(-z))
                else:
                    e = math.exp(z)
                    Z[i, j] = e / (1.0 + e)


@njit(cache=True, nogil=True, error_model="numpy")
def _activation_backward(D, A, act):
    """D *= f'(Z), written in terms of the activation output A = f(Z)."""
    if act == ACT_RELU:
        for i in range(D.shape[0]):
            for j in range(D.shape[1]):
                if A[i, j] <= 0.0:
                    D[i, j] = 0.0
    elif act == ACT_TANH:
        for i in range(D.shape[0]):
            for j in range(D.shape[1]):
                a = A[i, j]
                D[i, j] *= 1.0 - a * a
    elif act == ACT_SIGMOID:
        for i in range(D.shape[0]):
            for j in range(D.shape[1]):
                a = A[i, j]
                D[i, j] *= a * (1.0 - a)


@njit(cache=True, nogil=True, error_model="numpy")
def _forward(A0, nb, sizes, act, loss_code, theta, acts):
    """Forward pass of ``nb`` rows; leaves activations (and output) in ``acts``.

    The output layer holds logits (cross-entropy) or predictions (MSE).
    """
    n_layers = sizes.shape[0] - 1
    A_prev = A0
    for layer in range(n_layers):
        W, b = _layer_views(theta, sizes, layer)
        Z = _act_view(acts, sizes, layer + 1, nb)
        np.dot(A_prev, W, Z)
        for i in range(nb):
            for j in range(Z.shape[1]):
                Z[i, j] += b[j]
        if layer < n_layers - 1:
            _activate(Z, act)
        A_prev = Z
    return A_prev


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _softmax_row(out, i, k, y):
    """Row ``i`` of the logits ``out`` becomes its softmax, in place; returns its cross-entropy at class ``y``."""
    m = out[i, 0]
    for j in range(1, k):
        if out[i, j] > m:
            m = out[i, j]
    s = 0.0
    for j in range(k):
        s += math.exp(out[i, j] - m)
    loss = math.log(s) + m - out[i, y]
    inv = 1.0 / s
    for j in range(k):
        out[i, j] = math.exp(out[i, j] - m) * inv
    return loss


@njit(cache=True, nogil=True, error_model="numpy")
def _output_loss_delta(out, yb, Yb, nb, loss_code, D, want_delta):
    """Loss (summed over rows) of the output; turns logits into probabilities.

    When ``want_delta``, writes dLoss/dZ of the *mean* loss into the flat
    buffer ``D`` (row-major, ``nb * k`` values).
    """
    k = out.shape[1]
    total = 0.0
    if loss_code == LOSS_XENT:
        for i in range(nb):
            total += _softmax_row(out, i, k, yb[i])
            if want_delta:
                for j in range(k):
                    D[i * k + j] = out[i, j] / nb
                D[i * k + yb[i]] -= 1.0 / nb
    else:
        scale = 2.0 / (nb * k)
        for i in range(nb):
            for j in range(k):
                r = out[i, j] - Yb[i, j]
                total += r * r / k
                if want_delta:
                    D[i * k + j] = scale * r
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def _weighted_loss_delta(out, yb, Yb, wb, nb, loss_code, D, want_delta, wsum):
    """:func:`_output_loss_delta` with one weight per row: returns ``sum_i wb[i] * loss_i``.

    When ``want_delta``, writes dLoss/dZ of the *weighted mean* loss
    ``sum_i wb[i] * loss_i / wsum`` into ``D`` (``wsum`` > 0: the batch's
    weight total). A separate function, so that the unweighted path is the
    code it was, with no per-row branch.
    """
    k = out.shape[1]
    total = 0.0
    if loss_code == LOSS_XENT:
        for i in range(nb):
            total += wb[i] * _softmax_row(out, i, k, yb[i])
            if want_delta:
                c = wb[i] / wsum
                for j in range(k):
                    D[i * k + j] = out[i, j] * c
                D[i * k + yb[i]] -= c
    else:
        for i in range(nb):
            c = 2.0 * (wb[i] / wsum) / k
            row = 0.0
            for j in range(k):
                r = out[i, j] - Yb[i, j]
                row += r * r
                if want_delta:
                    D[i * k + j] = c * r
            total += wb[i] * (row / k)
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def _backward(A0, nb, sizes, act, theta, grad, acts, d_a, d_b):
    """Backward pass from the output delta held in ``d_a``; fills ``grad``."""
    n_layers = sizes.shape[0] - 1
    cur = d_a
    other = d_b
    for layer in range(n_layers - 1, -1, -1):
        n_out = sizes[layer + 1]
        D = cur[: nb * n_out].reshape((nb, n_out))
        gW, gb = _layer_views(grad, sizes, layer)
        if layer == 0:
            A_prev = A0
        else:
            A_prev = _act_view(acts, sizes, layer, nb)
        np.dot(A_prev.T, D, gW)
        for j in range(n_out):
            gb[j] = 0.0
        for i in range(nb):
            for j in range(n_out):
                gb[j] += D[i, j]
        if layer > 0:
            W, _ = _layer_views(theta, sizes, layer)
            n_in = sizes[layer]
            Dp = other[: nb * n_in].reshape((nb, n_in))
            np.dot(D, W.T, Dp)
            _activation_backward(Dp, A_prev, act)
            tmp = cur
            cur = other
            other = tmp


@njit(cache=True, nogil=True, error_model="numpy")
def _gather(X, y_int, Y, order, start, nb, Xb, yb, Yb, loss_code):
    for i in range(nb):
        r = order[start + i]
        for j in range(X.shape[1]):
            Xb[i, j] = X[r, j]
        if loss_code == LOSS_XENT:
            yb[i] = y_int[r]
        else:
            for j in range(Y.shape[1]):
                Yb[i, j] = Y[r, j]


@njit(cache=True, nogil=True, error_model="numpy")
def _process_gradient(grad, clip_value, clip_norm, normalize):
    """Clip by value, then by global norm, then normalise; in place."""
    n = grad.shape[0]
    if clip_value > 0.0:
        for i in range(n):
            g = grad[i]
            if g > clip_value:
                grad[i] = clip_value
            elif g < -clip_value:
                grad[i] = -clip_value
    if clip_norm > 0.0 or normalize:
        sq = 0.0
        for i in range(n):
            sq += float(grad[i]) * float(grad[i])
        norm = math.sqrt(sq)
        scale = 1.0
        if clip_norm > 0.0:
            coef = clip_norm / (norm + 1e-6)
            if coef < 1.0:
                scale = coef
                norm = norm * coef
        if normalize and norm > 0.0:
            scale = scale / norm
        if scale != 1.0:
            for i in range(n):
                grad[i] *= scale


@njit(cache=True, nogil=True, error_model="numpy")
def _sgd(theta, grad, buf, lr, wd, mu, one_m_damp, first, nesterov):
    if mu == 0.0:
        for i in range(theta.shape[0]):
            theta[i] -= lr * (grad[i] + wd * theta[i])
    elif first:
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i]
            buf[i] = g
            if nesterov:
                theta[i] -= lr * (g + mu * g)
            else:
                theta[i] -= lr * g
    elif nesterov:
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i]
            b = mu * buf[i] + one_m_damp * g
            buf[i] = b
            theta[i] -= lr * (g + mu * b)
    else:
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i]
            b = mu * buf[i] + one_m_damp * g
            buf[i] = b
            theta[i] -= lr * b


@njit(cache=True, nogil=True, error_model="numpy")
def _adagrad(theta, grad, sq, clr, wd, eps):
    for i in range(theta.shape[0]):
        g = grad[i] + wd * theta[i]
        s = sq[i] + g * g
        sq[i] = s
        theta[i] -= clr * g / (np.sqrt(s) + eps)


@njit(cache=True, nogil=True, error_model="numpy")
def _rmsprop(theta, grad, sq, aux, buf, lr, wd, eps, alpha, one_m_alpha, mu, centered):
    for i in range(theta.shape[0]):
        g = grad[i] + wd * theta[i]
        v = alpha * sq[i] + one_m_alpha * g * g
        sq[i] = v
        if centered:
            ga = alpha * aux[i] + one_m_alpha * g
            aux[i] = ga
            v = v - ga * ga
        d = g / (np.sqrt(v) + eps)
        if mu > 0.0:
            b = mu * buf[i] + d
            buf[i] = b
            theta[i] -= lr * b
        else:
            theta[i] -= lr * d


@njit(cache=True, nogil=True, error_model="numpy")
def _adam(theta, grad, m, v, vmax, step_size, wd, decay, b1, one_m_b1, b2, one_m_b2, sqrt_bc2, eps, amsgrad):
    if decay != 1.0:  # AdamW: decoupled weight decay, theta *= 1 - lr * wd
        for i in range(theta.shape[0]):
            theta[i] *= decay
    if amsgrad:
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i]
            mi = b1 * m[i] + one_m_b1 * g
            vi = b2 * v[i] + one_m_b2 * g * g
            m[i] = mi
            v[i] = vi
            if vi > vmax[i]:
                vmax[i] = vi
            theta[i] -= step_size * mi / (np.sqrt(vmax[i]) / sqrt_bc2 + eps)
    else:
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i]
            mi = b1 * m[i] + one_m_b1 * g
            vi = b2 * v[i] + one_m_b2 * g * g
            m[i] = mi
            v[i] = vi
            theta[i] -= step_size * mi / (np.sqrt(vi) / sqrt_bc2 + eps)


@njit(cache=True, nogil=True, error_model="numpy")
def _optimizer_step(theta, grad, state, t, opt_code, hp, lr, lo, hi, sc):
    """One torch.optim step on ``theta[lo:hi]`` at rate ``lr``; ``t`` counts from 1.

    Scalars are computed in float64, then stored into the scratch array ``sc``
    (of the parameters' dtype) and read back, so the element loops run in the
    parameters' precision (as torch does) and vectorise: no branch and no
    reduction inside a loop.
    """
    wd = hp[HP_WEIGHT_DECAY]
    buf = state[ST_BUF]
    sq = state[ST_SQ]
    aux = state[ST_AUX]
    if opt_code == OPT_SGD:
        mu = hp[HP_MOMENTUM]
        sc[0] = lr
        sc[1] = wd
        sc[2] = mu
        sc[3] = 1.0 - hp[HP_DAMPENING]
        _sgd(theta[lo:hi], grad[lo:hi], buf[lo:hi], sc[0], sc[1], sc[2], sc[3], t == 1, hp[HP_NESTEROV] != 0.0)
    elif opt_code == OPT_ADAGRAD:
        sc[0] = lr / (1.0 + (t - 1) * hp[HP_LR_DECAY])
        sc[1] = wd
        sc[2] = hp[HP_EPS]
        _adagrad(theta[lo:hi], grad[lo:hi], sq[lo:hi], sc[0], sc[1], sc[2])
    elif opt_code == OPT_RMSPROP:
        alpha = hp[HP_BETA1]
        sc[0] = lr
        sc[1] = wd
        sc[2] = hp[HP_EPS]
        sc[3] = alpha
        sc[4] = 1.0 - alpha
        sc[5] = hp[HP_MOMENTUM]
        _rmsprop(theta[lo:hi], grad[lo:hi], sq[lo:hi], aux[lo:hi], buf[lo:hi], sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], hp[HP_FLAG] != 0.0)
    else:  # OPT_ADAM (AdamW when decoupled)
        b1 = hp[HP_BETA1]
        b2 = hp[HP_BETA2]
        decoupled = hp[HP_DECOUPLED] != 0.0
        sc[0] = lr / (1.0 - b1**t)
        sc[1] = 0.0 if decoupled else wd
        sc[2] = 1.0 - lr * wd if decoupled else 1.0
        sc[3] = b1
        sc[4] = 1.0 - b1
        sc[5] = b2
        sc[6] = 1.0 - b2
        sc[7] = math.sqrt(1.0 - b2**t)
        sc[8] = hp[HP_EPS]
        _adam(theta[lo:hi], grad[lo:hi], buf[lo:hi], sq[lo:hi], aux[lo:hi], sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7], sc[8],
              hp[HP_FLAG] != 0.0)  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy")
def _update(theta, grad, state, t, opt_code, hp, lr, layer_mult, sizes, sc):
    """Optimizer step with a per-layer rate multiplier."""
    off = 0
    for layer in range(sizes.shape[0] - 1):
        n = sizes[layer] * sizes[layer + 1] + sizes[layer + 1]
        _optimizer_step(theta, grad, state, t, opt_code, hp, lr * layer_mult[layer], off, off + n, sc)
        off += n


@njit(cache=True, nogil=True, error_model="numpy")
def _all_finite(a):
    for i in range(a.shape[0]):
        if not math.isfinite(a[i]):
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def train_epoch(
    X,
    y_int,
    Y,
    order,
    w_order,
    batch_size,
    sizes,
    act,
    loss_code,
    theta,
    grad,
    state,
    step,
    opt_code,
    hp,
    layer_mult,
    lrs,
    moms,
    mom_slot,
    clip_value,
    clip_norm,
    normalize,
    explode,
    Xb,
    yb,
    Yb,
    acts,
    d_a,
    d_b,
    batch_losses,
):
    """One epoch of minibatch training; the only per-epoch entry point.

    ``step`` is the number of optimizer steps taken before this epoch; ``lrs``
    holds one rate per batch of this epoch. Returns ``(loss_sum, rows, steps,
    status)``: the sum of per-row losses over the batches whose loss was
    finite, the rows they held, the optimizer steps taken and a ``STATUS_*``
    code. ``moms``, when not empty, holds one value per batch written to
    ``hp[mom_slot]`` before the batch's step (a cycled momentum or beta1). A
    batch whose loss is non-finite or above ``explode[1]`` is not
    applied; ``explode = [factor, limit]``, and a NaN limit is set to
    ``factor * max(first batch loss, 1e-3)``. The mean loss of batch ``k`` (before its update) is written to
    ``batch_losses[k]``. ``order`` may be longer than X (rows repeat), which
    the range test uses to run any number of steps in one call.

    ``w_order`` is empty (every row weighs the same) or holds the weight of
    each entry of ``order`` (all > 0, the wrapper's duty): each batch's loss is
    then the weighted mean ``sum w_i l_i / sum w_i`` over its rows, and
    ``loss_sum`` the weighted sum ``sum w_i l_i``.
    """
    n = order.shape[0]
    n_batches = (n + batch_size - 1) // batch_size
    sc = np.empty(16, dtype=theta.dtype)  # scalars in the parameters' precision
    loss_sum = 0.0
    rows = 0
    taken = 0
    for k in range(n_batches):
        start = k * batch_size
        nb = min(batch_size, n - start)
        _gather(X, y_int, Y, order, start, nb, Xb, yb, Yb, loss_code)
        A0 = Xb[:nb]
        out = _forward(A0, nb, sizes, act, loss_code, theta, acts)
        if w_order.shape[0] > 0:
            wb = w_order[start : start + nb]
            wsum = 0.0
            for i in range(nb):
                wsum += wb[i]
            batch_loss = _weighted_loss_delta(out, yb, Yb, wb, nb, loss_code, d_a, True, wsum)
            mean_loss = batch_loss / wsum
        else:
            batch_loss = _output_loss_delta(out, yb, Yb, nb, loss_code, d_a, True)
            mean_loss = batch_loss / nb
        batch_losses[k] = mean_loss
        if not math.isfinite(mean_loss):
            return loss_sum, rows, taken, STATUS_NONFINITE_LOSS
        if math.isnan(explode[1]):
            explode[1] = explode[0] * max(mean_loss, 1e-3)
        if mean_loss > explode[1]:
            return loss_sum, rows, taken, STATUS_EXPLODED
        loss_sum += batch_loss
        rows += nb
        _backward(A0, nb, sizes, act, theta, grad, acts, d_a, d_b)
        _process_gradient(grad, clip_value, clip_norm, normalize)
        if moms.shape[0] > 0:
            hp[mom_slot] = moms[k]
        _update(theta, grad, state, step + taken + 1, opt_code, hp, lrs[k], layer_mult, sizes, sc)
        taken += 1
    # Non-finite parameters make the next batch's loss non-finite; the last
    # update of the call is checked here, once, outside the batch loop.
    if not _all_finite(theta):
        return loss_sum, rows, taken, STATUS_NONFINITE_PARAMS
    return loss_sum, rows, taken, STATUS_OK


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate(X, y_int, Y, sw, batch_size, sizes, act, loss_code, theta, Xb, acts, d_a, out_all):
    """Mean loss over all rows of X; writes probabilities / predictions to ``out_all``.

    ``sw`` is empty, or holds one weight per row (sum > 0): the loss is then
    the weighted mean ``sum w_i l_i / sum w_i``.
    """
    n = X.shape[0]
    weighted = sw.shape[0] > 0
    total = 0.0
    wtotal = 0.0
    yb = np.empty(0, dtype=np.int64)
    for start in range(0, n, batch_size):
        nb = min(batch_size, n - start)
        for i in range(nb):
            for j in range(X.shape[1]):
                Xb[i, j] = X[start + i, j]
        out = _forward(Xb[:nb], nb, sizes, act, loss_code, theta, acts)
        if weighted:
            wb = sw[start : start + nb]
            for i in range(nb):
                wtotal += wb[i]
            if loss_code == LOSS_XENT:
                total += _weighted_loss_delta(out, y_int[start : start + nb], Y, wb, nb, loss_code, d_a, False, 1.0)
            else:
                total += _weighted_loss_delta(out, yb, Y[start : start + nb], wb, nb, loss_code, d_a, False, 1.0)
        elif loss_code == LOSS_XENT:
            total += _output_loss_delta(out, y_int[start : start + nb], Y, nb, loss_code, d_a, False)
        else:
            total += _output_loss_delta(out, yb, Y[start : start + nb], nb, loss_code, d_a, False)
        for i in range(nb):
            for j in range(out.shape[1]):
                out_all[start + i, j] = out[i, j]
    return total / wtotal if weighted else total / n


@njit(cache=True, nogil=True, error_model="numpy")
def loss_grad(X, y_int, Y, sw, sizes, act, loss_code, theta, grad, acts, d_a, d_b):
    """Mean loss of all rows of X (one batch) and its gradient into ``grad``.

    ``sw`` is empty, or holds one weight per row (sum > 0): the weighted mean
    ``sum w_i l_i / sum w_i`` and its gradient.
    """
    n = X.shape[0]
    out = _forward(X, n, sizes, act, loss_code, theta, acts)
    if sw.shape[0] > 0:
        wsum = 0.0
        for i in range(n):
            wsum += sw[i]
        total = _weighted_loss_delta(out, y_int, Y, sw, n, loss_code, d_a, True, wsum)
        _backward(X, n, sizes, act, theta, grad, acts, d_a, d_b)
        return total / wsum
    total = _output_loss_delta(out, y_int, Y, n, loss_code, d_a, True)
    _backward(X, n, sizes, act, theta, grad, acts, d_a, d_b)
    return total / n
