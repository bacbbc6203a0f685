"""The PyTorch bridge: from_torch's trace agrees with PyTorch's autograd and SGD, check_torch finds
a learner's mistakes in their own training step, every module tracenn cannot trace is refused in
one line, and `tracenn spec --from-torch` converts a saved model.  Every check compares with an
independent value: PyTorch's own gradients and updates, or Mazur's published numbers."""

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import torch
    from torch import nn
except ImportError:
    if os.environ.get("CI") == "true":
        raise  # CI installs the test extra, which holds PyTorch: a missing torch is a failure
    pytest.skip("PyTorch is not installed: pip install -e '.[test]' (or '.[torch]') installs it",
                allow_module_level=True)

import tracenn
from tracenn import OptionError, UnsupportedError
from tracenn.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------------
# Ten random MLPs against PyTorch's autograd and SGD
# --------------------------------------------------------------------------------------------

# (hidden activations, the model's last module, loss, kind of targets); "identity" is a Linear
# followed directly by a Linear, "Identity" an nn.Identity module between them.
CASES = [
    (["sigmoid"], "ReLU", "MSELoss", "values"),
    (["tanh", "relu"], None, "sse", "values"),
    (["relu"], None, "CrossEntropyLoss", "classes"),
    (["sigmoid", "tanh"], "LogSoftmax", "NLLLoss", "classes"),
    (["tanh"], "Sigmoid", "BCELoss", "binary"),
    (["identity"], None, "BCEWithLogitsLoss", "binary"),
    (["relu", "sigmoid"], "Softmax", "MSELoss", "values"),
    (["Identity", "tanh"], "Tanh", "MSELoss", "values"),
    (["sigmoid"], "Sigmoid", "half-sse", "values"),
    (["tanh", "relu", "sigmoid"], None, "CrossEntropyLoss", "probabilities"),
]
HIDDEN = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "identity": None,
          "Identity": nn.Identity}
LAST = {"ReLU": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
        "Softmax": lambda: nn.Softmax(dim=1), "LogSoftmax": lambda: nn.LogSoftmax(dim=1)}
HAND_WRITTEN = {  # tracenn's losses by name, written in PyTorch: the batch mean of Σ_k per sample
    "sse": lambda a, t: ((t - a) ** 2).sum(dim=1).mean(),
    "half-sse": lambda a, t: (0.5 * (t - a) ** 2).sum(dim=1).mean(),
}


def random_case(seed: int):
    """Network `seed` of CASES with random sizes, weights, data and η, in float64."""
    hidden, last, loss, kind = CASES[seed]
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    K = 1 if kind == "binary" else int(rng.integers(2, 4))
    sizes = [int(rng.integers(2, 5))] + [int(rng.integers(2, 6)) for _ in hidden] + [K]
    n = int(rng.integers(3, 7))
    modules = []
    for l, act in enumerate(hidden):
        modules.append(nn.Linear(sizes[l], sizes[l + 1], bias=not (seed == 9 and l == 0)))
        if HIDDEN[act] is not None:
            modules.append(HIDDEN[act]())
    modules.append(nn.Linear(sizes[-2], K))
    if last:
        modules.append(LAST[last]())
    if seed == 7:  # nested Sequentials are flattened
        modules = [nn.Sequential(*modules[:2]), nn.Sequential(*modules[2:])]
    model = nn.Sequential(*modules).double()
    x = torch.tensor(rng.normal(0, 1, (n, sizes[0])))
    if kind == "classes":
        t = torch.tensor(rng.integers(0, K, n))
    elif kind == "probabilities":
        t = torch.tensor(rng.dirichlet(np.ones(K), n))
    elif kind == "binary":
        t = torch.tensor(rng.integers(0, 2, (n, 1)).astype(float))
    else:
        t = torch.tensor(rng.uniform(0, 1, (n, K)))
    return model, x, t, loss, float(rng.uniform(0.1, 1.0))


def torch_step(model, x, t, loss: str, lr: float):
    """PyTorch's own step: its loss, every Linear's z, gradients and weights after SGD."""
    model = copy.deepcopy(model)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    zs = []
    for m in linears:
        m.register_forward_hook(lambda mod, i, out: zs.append(out.detach().clone()))
    loss_fn = HAND_WRITTEN.get(loss) or getattr(nn, loss)()
    value = loss_fn(model(x), t)
    value.backward()
    grads = [(m.weight.grad.clone(), None if m.bias is None else m.bias.grad.clone())
             for m in linears]
    torch.optim.SGD(model.parameters(), lr=lr).step()
    new = [(m.weight.detach().clone(), None if m.bias is None else m.bias.detach().clone())
           for m in linears]
    return float(value.detach()), zs, grads, new


def worst_difference(seed: int) -> float:
    model, x, t, loss, lr = random_case(seed)
    spec = tracenn.from_torch(model, x, t, loss=loss, lr=lr)
    step = tracenn.step(spec)
    value, zs, grads, new = torch_step(model, x, t, loss, lr)
    pairs = [(step.loss, value)]
    for layer, z, (gW, gb), (W, b) in zip(step.layers, zs, grads, new):
        pairs += [(layer.z, z), (layer.grad_W, gW), (layer.W_new, W)]
        if gb is not None:
            pairs += [(layer.grad_b, gb), (layer.b_new, b)]
    return max(float(np.max(np.abs(np.asarray(ours) - np.asarray(theirs))
                            / np.maximum(1.0, np.abs(np.asarray(theirs)))))
               for ours, theirs in pairs)


@pytest.mark.parametrize("seed", range(len(CASES)))
def test_random_mlps_agree_with_autograd_and_sgd(seed):
    worst = worst_difference(seed)
    print(f"network {seed} ({CASES[seed]}): worst difference {worst:.1e}")
    assert worst <= 1e-10


def test_the_ten_networks_cover_every_activation_and_loss():
    hidden = {a.lower() for case in CASES for a in case[0]}
    last = {case[1] for case in CASES}
    losses = {case[2] for case in CASES}
    assert hidden == {"sigmoid", "tanh", "relu", "identity"}
    assert last == {None, *LAST}
    assert losses == {"MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
                      "sse", "half-sse"}
    assert {case[3] for case in CASES if case[2] == "CrossEntropyLoss"} == {"classes",
                                                                           "probabilities"}


def test_the_comparison_can_fail():
    model, x, t, loss, lr = random_case(0)
    spec = tracenn.from_torch(model, x, t, loss=loss, lr=lr * 1.001)  # not PyTorch's η
    value, zs, grads, new = torch_step(model, x, t, loss, lr)
    assert np.max(np.abs(tracenn.step(spec).layers[-1].W_new - new[-1][0].numpy())) > 1e-10


# --------------------------------------------------------------------------------------------
# from_torch: the weights, the spec, Mazur's numbers
# --------------------------------------------------------------------------------------------


def mazur_model():
    """Mazur's 2-2-2 network written in PyTorch, in float64."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid()).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.15, 0.20], [0.25, 0.30]], dtype=torch.float64))
        model[0].bias.fill_(0.35)
        model[2].weight.copy_(torch.tensor([[0.40, 0.45], [0.50, 0.55]], dtype=torch.float64))
        model[2].bias.fill_(0.60)
    x = torch.tensor([[0.05, 0.10]], dtype=torch.float64)
    t = torch.tensor([[0.01, 0.99]], dtype=torch.float64)
    return model, x, t


def test_mazur_in_pytorch_gives_the_blogs_numbers():
    model, x, t = mazur_model()
    optimizer = torch.optim.SGD([model[0].weight, model[2].weight], lr=0.5)  # b1, b2 fixed
    spec = tracenn.from_torch(model, x, t, loss=nn.MSELoss(), optimizer=optimizer)
    step = tracenn.step(spec)
    blog = {"a1[1]": 0.593269992, "a2[1]": 0.75136507, "E": 0.298371109,
            "dE/dW2[1,1]": 0.082167041, "W2[1,1]+": 0.35891648, "W1[1,1]+": 0.149780716,
            "b2[1]+": 0.60}
    for name, value in blog.items():
        assert step[name] == pytest.approx(value, abs=1e-8), name  # the blog prints 8-9 digits
    preset = tracenn.step("mazur")  # tracenn's own Mazur: the same numbers to the last bit
    assert step["a2[1]"] == preset["out_o1"] and step["W1[2,2]+"] == preset["w4+"]
    assert [layer.bias_trainable for layer in spec.network.layers] == [False, False]
    assert tracenn.check_torch(model, optimizer, nn.MSELoss(), x, t).ok


def test_weights_are_copied_exactly_in_the_same_convention():
    model, x, t, loss, lr = random_case(2)
    spec = tracenn.from_torch(model, x, t, loss=loss, lr=lr)
    first = spec.network.layers[0]
    assert np.array_equal(first.W, model[0].weight.detach().numpy())
    assert spec.labels.weights[0][1][0] == "W1[2,1]"  # weight[1][0]: input 1 → neuron 2
    assert np.array_equal(spec.data.T, np.eye(spec.network.sizes[-1])[t.numpy()])


def test_the_spec_is_written_as_toml_that_reads_back_the_same():
    from tracenn.spec.writer import spec_to_toml

    model, x, t, loss, lr = random_case(3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    spec = tracenn.from_torch(model, x, t, loss=loss, optimizer=optimizer)
    back = parse_spec(spec_to_toml(spec))
    assert back.training.optimizer == "adam" and back.training.hyper["beta1"] == 0.8
    for a, b in zip(spec.network.layers, back.network.layers):
        assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
    assert tracenn.step(back).values() == tracenn.step(spec).values()


def test_one_group_with_weight_decay_decays_the_biases_too():
    model, x, t = mazur_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, weight_decay=0.1)
    spec = tracenn.from_torch(model, x, t, loss=nn.MSELoss(), optimizer=optimizer)
    assert "weight-decay-on-bias" in spec.note
    traced = tracenn.step(spec, mistakes=["weight-decay-on-bias"])
    loss = nn.MSELoss()(model(x), t)
    loss.backward()
    optimizer.step()
    assert traced.layers[1].b_new == pytest.approx(model[2].bias.detach().numpy(), abs=1e-12)


# --------------------------------------------------------------------------------------------
# check_torch
# --------------------------------------------------------------------------------------------

X = torch.tensor([[0.5, -0.2, 0.1], [-0.3, 0.8, 0.4], [0.9, 0.1, -0.7], [0.2, 0.3, 0.5]])
Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.2, 0.8]])
CLASSES = torch.tensor([0, 2, 1, 2])


def net(logits: bool = False, hidden=nn.Tanh):
    torch.manual_seed(3)
    if logits:
        return nn.Sequential(nn.Linear(3, 4), hidden(), nn.Linear(4, 3))
    return nn.Sequential(nn.Linear(3, 4), hidden(), nn.Linear(4, 2), nn.Sigmoid())


def two_groups(model, cls, **settings):
    """torch.optim's way to follow tracenn's convention: the biases in a group without decay."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    decay = settings.pop("weight_decay", 0.01)
    return cls([{"params": weights, "weight_decay": decay},
                {"params": biases, "weight_decay": 0.0}], **settings)


OPTIMIZERS = {
    "sgd": lambda m: torch.optim.SGD(m.parameters(), lr=0.5),
    "momentum": lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
    "nesterov": lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.8, nesterov=True),
    "rmsprop": lambda m: torch.optim.RMSprop(m.parameters(), lr=0.01, alpha=0.9),
    "adam": lambda m: torch.optim.Adam(m.parameters(), lr=0.01),
    "adamw": lambda m: two_groups(m, torch.optim.AdamW, lr=0.01, weight_decay=0.05),
    "sgd-decay": lambda m: two_groups(m, torch.optim.SGD, lr=0.5, weight_decay=0.1),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_correct_step_is_all_equal(name):
    model = net()
    result = tracenn.check_torch(model, OPTIMIZERS[name](model), nn.MSELoss(), X, Y, steps=3)
    assert result.ok, str(result)
    assert [c.step for c in result.comparisons] == [1, 2, 3]
    assert all(len(c.checked) >= 100 for c in result.comparisons)
    assert "All equal" in str(result) and result.first is None


def test_a_correct_step_with_class_indices_is_all_equal():
    model = net(logits=True, hidden=nn.ReLU)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    result = tracenn.check_torch(model, optimizer, nn.CrossEntropyLoss(), X, CLASSES)
    assert result.ok, str(result)
    assert "the output layer's a and ∂E/∂a" in " ".join(result.not_recorded)


MORE_MODELS = {
    "in-place ReLU, LogSoftmax and NLLLoss": (
        lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Linear(4, 3),
                              nn.LogSoftmax(dim=1)), nn.NLLLoss, CLASSES),
    "Identity between Linears": (
        lambda: nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Linear(4, 2), nn.Tanh()),
        nn.MSELoss, Y),
}


@pytest.mark.parametrize("name", MORE_MODELS)
def test_more_models_are_all_equal(name):
    make, loss, targets = MORE_MODELS[name]
    torch.manual_seed(5)
    model = make()
    result = tracenn.check_torch(model, torch.optim.SGD(model.parameters(), lr=0.5), loss(), X,
                                 targets)
    assert result.ok, str(result)


@pytest.mark.parametrize("loss_fn, logits", [(nn.MSELoss(reduction="sum"), False),
                                             (nn.CrossEntropyLoss(reduction="sum"), True)])
def test_a_summed_loss_is_summed_batch_at_the_first_gradient(loss_fn, logits):
    model = net(logits)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = tracenn.check_torch(model, optimizer, loss_fn, X, CLASSES if logits else Y)
    assert not result.ok and result.step == 1
    assert result.first.name == "dE/dW2[1,1]" and result.first.stage == "gradient"
    assert result.first.yours == pytest.approx(4 * result.first.right)
    assert [(d.name, d.conflicts) for d in result.mistakes] == [("summed-batch", [])]
    assert "summed-batch" in result._repr_html_()


def forgot_zero_grad(model, optimizer, loss_fn, inputs, targets):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()


def test_a_forgotten_zero_grad_is_gradient_accumulated():
    model = net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    result = tracenn.check_torch(model, optimizer, nn.MSELoss(), X, Y, train_step=forgot_zero_grad)
    assert result.comparisons[0].ok and result.step == 2
    assert result.first.stage == "gradient"
    assert [d.name for d in result.mistakes] == ["gradient-accumulated"]


class SigmoidOfA(torch.autograd.Function):
    """A sigmoid whose backward applies σ′ to the output a instead of z (a classic mistake)."""

    @staticmethod
    def forward(ctx, z):
        a = torch.sigmoid(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        s = torch.sigmoid(a)
        return grad * s * (1 - s)


class NoDerivative(SigmoidOfA):
    """A sigmoid whose backward forgets the derivative altogether."""

    @staticmethod
    def backward(ctx, grad):
        return grad


def module_of(function):
    class Custom(nn.Module):
        def forward(self, z):
            return function.apply(z)
    return Custom


@pytest.mark.parametrize("function, mistakes", [(SigmoidOfA, ["sigma-prime-of-a"]),
                                                (NoDerivative, [])])
def test_a_custom_backward_is_found_at_the_first_wrong_delta(function, mistakes):
    model = net(logits=True, hidden=module_of(function))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    result = tracenn.check_torch(model, optimizer, nn.CrossEntropyLoss(), X, CLASSES)
    assert result.model == "Linear(3, 4) → Custom → Linear(4, 3)"
    assert result.step == 1 and result.first.name == "delta1[1]@1"
    assert ("dE/da1[1]@1", "right") in result.first.inputs
    assert [d.name for d in result.mistakes] == mistakes


def test_one_group_with_weight_decay_is_weight_decay_on_bias():
    model = net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, weight_decay=0.1)
    result = tracenn.check_torch(model, optimizer, nn.MSELoss(), X, Y)
    assert result.first.name == "b2[1]+" and result.first.stage == "update"
    assert [d.name for d in result.mistakes] == ["weight-decay-on-bias"]
    assert "decays the biases too" in result.optimizer


class HandWrittenAdam:
    """A learner's Adam; `corrected` False leaves out the bias correction."""

    def __init__(self, params, lr, corrected=True, b1=0.9, b2=0.999, eps=1e-8, eps_inside=False):
        self.params, self.lr, self.corrected, self.eps_inside = list(params), lr, corrected, \
            eps_inside
        self.b1, self.b2, self.eps, self.t = b1, b2, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]  # float32 buffers, made float64
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(self.b1).add_(p.grad, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(p.grad, p.grad, value=1 - self.b2)
            m_hat, v_hat = (m / (1 - self.b1 ** self.t), v / (1 - self.b2 ** self.t)) \
                if self.corrected else (m, v)
            denominator = (v_hat + self.eps).sqrt() if self.eps_inside else v_hat.sqrt() + self.eps
            p.sub_(self.lr * m_hat / denominator)


class MomentumWithoutMemory(HandWrittenAdam):
    """A learner's momentum that starts every step from v = 0 (so it is plain SGD)."""

    @torch.no_grad()
    def step(self):
        for p in self.params:
            v = torch.zeros_like(p)
            v.mul_(0.9).add_(p.grad)
            p.sub_(self.lr * v)


class DampedMomentum:
    """A learner's momentum that keeps its state as torch.optim does (optimizer.state[p]) but
    damps the gradient from the first step on: v ← μ v + (1 − μ) g."""

    def __init__(self, params, lr, momentum=0.9):
        self.params, self.lr, self.mu, self.state = list(params), lr, momentum, {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p in self.params:
            v = self.state.setdefault(p, {}).get("momentum_buffer", torch.zeros_like(p))
            v = self.mu * v + (1 - self.mu) * p.grad
            self.state[p]["momentum_buffer"] = v
            p.sub_(self.lr * v)


def test_optimizer_state_that_differs_from_torch_optims():
    model = net()
    meant = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = tracenn.check_torch(model, DampedMomentum(model.parameters(), 0.1), nn.MSELoss(),
                                 X, Y, means=meant)
    assert result.step == 1 and result.first.stage == "update"
    assert result.first.name == "velocity_W2[1,1]" and result.mistakes == []
    assert result.first.yours == pytest.approx(0.1 * result.first.right)
    assert ("dE/dW2[1,1]", "right") in result.first.inputs
    assert tracenn.check_torch(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                               nn.MSELoss(), X, Y).ok  # torch.optim's own state: all equal


@pytest.mark.parametrize("make, means, step, mistakes", [
    (lambda m: HandWrittenAdam(m.parameters(), 0.01), "adam", None, None),
    (lambda m: HandWrittenAdam(m.parameters(), 0.01, corrected=False), "adam", 1,
     ["adam-no-bias-correction"]),
    (lambda m: HandWrittenAdam(m.parameters(), 0.01, eps=1e-3, eps_inside=True), "adam-eps", 1,
     ["adam-eps-inside-sqrt"]),
    (lambda m: MomentumWithoutMemory(m.parameters(), 0.1), "momentum", 2, ["momentum-reset"]),
])
def test_an_optimizer_of_ones_own_against_torch_optim(make, means, step, mistakes):
    model = net()
    meant = {"adam": lambda: torch.optim.Adam(model.parameters(), lr=0.01),
             "adam-eps": lambda: torch.optim.Adam(model.parameters(), lr=0.01, eps=1e-3),
             "momentum": lambda: torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)}
    result = tracenn.check_torch(model, make(model), nn.MSELoss(), X, Y, means=meant[means]())
    assert result.step == step, str(result)
    if mistakes:
        assert result.first.stage == "update"
        assert [d.name for d in result.mistakes] == mistakes


def test_a_float32_step_within_the_stated_tolerance():
    model = net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    result = tracenn.check_torch(model, optimizer, nn.MSELoss(), X, Y, double=False)
    assert result.ok and result.dtype == "float32" and result.tolerance == 1e-5
    summed = tracenn.check_torch(model, optimizer, nn.MSELoss(reduction="sum"), X, Y, double=False)
    assert [d.name for d in summed.mistakes] == ["summed-batch"]


def test_a_loss_function_of_ones_own():
    model = net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

    def mean_sse(a, t):
        return ((t - a) ** 2).sum(dim=1).mean()

    def summed_sse(a, t):
        return ((t - a) ** 2).sum()

    assert tracenn.check_torch(model, optimizer, mean_sse, X, Y, loss="sse").ok
    summed = tracenn.check_torch(model, optimizer, summed_sse, X, Y, loss="sse")
    assert [d.name for d in summed.mistakes] == ["summed-batch"]
    assert "summed_sse, meant as tracenn's sse" in summed.loss
    with pytest.raises(UnsupportedError, match="say what it computes with loss="):
        tracenn.check_torch(model, optimizer, mean_sse, X, Y)


def test_the_learners_model_and_optimizer_are_left_alone():
    model = net()
    before = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    tracenn.check_torch(model, optimizer, nn.MSELoss(), X, Y)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not optimizer.state and all(p.grad is None for p in model.parameters())


def test_an_optimizer_that_has_taken_steps_is_refused():
    model = net()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    nn.MSELoss()(model(X), Y).backward()
    optimizer.step()
    with pytest.raises(UnsupportedError, match="taken steps already"):
        tracenn.check_torch(model, optimizer, nn.MSELoss(), X, Y)


def test_the_result_as_json_and_html():
    model = net()
    result = tracenn.check_torch(model, torch.optim.SGD(model.parameters(), lr=0.5),
                                 nn.MSELoss(reduction="sum"), X, Y)
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["kind"] == "check-torch" and data["match"] is False
    assert data["steps"][0]["first_mismatch"]["name"] == "dE/dW2[1,1]"
    page = result._repr_html_()
    assert page.startswith("<div") and "First difference at step 1: dE/dW2[1,1]" in page


# --------------------------------------------------------------------------------------------
# What tracenn does not trace: one line naming the module
# --------------------------------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return self.fc(x)


S, L = nn.Sequential, nn.Linear
REFUSED = [
    (lambda: S(nn.Conv2d(1, 1, 3)), "MSELoss", "model[0] (Conv2d(1, 1, kernel_size=(3, 3)"),
    (lambda: S(L(2, 3), nn.BatchNorm1d(3), L(3, 1)), "MSELoss", "model[1] (BatchNorm1d(3"),
    (lambda: S(L(2, 3), nn.Dropout(0.5), L(3, 1)), "MSELoss", "model[1] (Dropout(p=0.5"),
    (lambda: Net(), "MSELoss", "the model is a Net, not an nn.Sequential"),
    (lambda: S(L(2, 3), nn.Sigmoid(), L(4, 1)), "MSELoss",
     "model[2] (Linear(4, 1)) takes 4 input(s), but model[0] (Linear(2, 3)) gives 3"),
    (lambda: S(L(2, 3), nn.LeakyReLU(), L(3, 1)), "MSELoss", "model[1] (LeakyReLU(negative_slope"),
    (lambda: S(L(2, 3), nn.ReLU6(), L(3, 1)), "MSELoss", "model[1] (ReLU6) is not supported"),
    (lambda: S(L(2, 3), nn.Hardtanh(), L(3, 1)), "MSELoss", "model[1] (Hardtanh(min_val"),
    (lambda: S(nn.Sigmoid(), L(2, 1)), "MSELoss", "model[0] (Sigmoid) comes before any Linear"),
    (lambda: S(L(2, 3), nn.Sigmoid(), nn.Tanh(), L(3, 1)), "MSELoss", "follows Sigmoid"),
    (lambda: S(L(2, 3), nn.Softmax(dim=1), L(3, 2)), "MSELoss", "only after the last Linear"),
    (lambda: S(L(2, 3), nn.Softmax(dim=0)), "MSELoss", "model[1] (Softmax(dim=0))"),
    (lambda: S(L(2, 3), nn.Softmax(dim=1)), nn.CrossEntropyLoss(), "applies softmax twice"),
    (lambda: S(L(2, 3), nn.Softmax(dim=1)), nn.NLLLoss(), "−a_t, not −log a_t"),
    (lambda: S(L(2, 3), nn.LogSoftmax(dim=1)), nn.CrossEntropyLoss(), "use NLLLoss"),
    (lambda: S(L(2, 1), nn.Sigmoid()), nn.BCEWithLogitsLoss(), "applies sigmoid twice"),
    (lambda: S(L(2, 2), nn.Sigmoid()), nn.BCELoss(), "averages over the 2 outputs"),
    (lambda: S(L(2, 3)), nn.CrossEntropyLoss(label_smoothing=0.1), "label_smoothing"),
    (lambda: S(L(2, 3)), nn.CrossEntropyLoss(weight=torch.ones(3)), "class weights"),
    (lambda: S(L(2, 3)), nn.L1Loss(), "the loss L1Loss is not one tracenn pairs"),
    (lambda: S(L(2, 2)), nn.MSELoss(reduction="sum"), "summed-batch"),
    (lambda: S(L(2, 2)), nn.MSELoss(reduction="none"), "reduction='mean'"),
]


@pytest.mark.parametrize("make, loss, words", REFUSED)
def test_unsupported_models_and_losses_in_one_line(make, loss, words):
    with pytest.raises(UnsupportedError) as info:  # refused before the data are read
        tracenn.from_torch(make(), torch.zeros(4, 2), torch.zeros(4, 2), loss=loss)
    message = str(info.value)
    assert words in message and "\n" not in message
    assert isinstance(info.value, tracenn.TracennError)


@pytest.mark.parametrize("make, words", [
    (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5), "dampening"),
    (lambda p: torch.optim.Adagrad(p, lr=0.1), "Adagrad is not an optimizer tracenn follows"),
    (lambda p: torch.optim.Adam(p, lr=0.1, amsgrad=True), "amsgrad"),
    (lambda p: torch.optim.RMSprop(p, lr=0.1, centered=True), "centered"),
    (lambda p: torch.optim.SGD([p[1]], lr=0.1), "does not train model[0].weight"),
    (lambda p: torch.optim.SGD([{"params": [p[0]], "lr": 0.1}, {"params": [p[1]], "lr": 0.2}]),
     "differ in more than weight_decay"),
])
def test_unsupported_optimizers_in_one_line(make, words):
    model = S(L(2, 2), nn.Sigmoid())
    with pytest.raises(UnsupportedError, match=re.escape(words)):
        tracenn.from_torch(model, torch.zeros(3, 2), torch.zeros(3, 2), loss="mse",
                           optimizer=make(list(model.parameters())))


@pytest.mark.parametrize("inputs, targets, words", [
    (torch.zeros(3, 3), torch.zeros(3, 1), "inputs have shape (3, 3)"),
    (torch.zeros(3, 2), torch.zeros(3), "a loss would broadcast (3,) against (3, 1)"),
    (torch.zeros(3, 2), torch.zeros(2, 1), "targets have shape (2, 1)"),
    ([[0.0, float("nan")]], [[0.0]], "finite"),
    ("abc", [[0.0]], "expected rows of numbers"),
])
def test_data_that_does_not_fit_in_one_line(inputs, targets, words):
    with pytest.raises(OptionError, match=re.escape(words)):
        tracenn.from_torch(S(L(2, 1)), inputs, targets, loss="mse")


# --------------------------------------------------------------------------------------------
# tracenn spec --from-torch
# --------------------------------------------------------------------------------------------


def one_error_line(result):
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def saved(tmp_path, name, obj):
    path = tmp_path / name
    torch.save(obj, path)
    return path


@pytest.mark.parametrize("form", ["module", "state dict", "checkpoint"])
def test_spec_from_a_saved_model(run, tmp_path, form):
    model, x, t, loss, lr = random_case(2)  # Linear, ReLU, Linear; CrossEntropyLoss
    obj = {"module": model, "state dict": model.state_dict(),
           "checkpoint": {"epoch": 3, "model_state_dict": model.state_dict()}}[form]
    args = ["spec", "--from-torch", saved(tmp_path, "model.pt", obj),
            "--inputs", json.dumps(x.tolist()), "--targets", json.dumps(t.tolist()),
            "--loss", loss, "--lr", lr, "-o", tmp_path / "spec.toml"]
    if form != "module":
        args += ["--activations", "relu,identity"]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "spec.toml").read_text()
    assert text.startswith("# The weights of ")
    step = tracenn.step(parse_spec(text))
    value, zs, grads, new = torch_step(model, x, t, loss, lr)
    assert step.loss == pytest.approx(value, abs=1e-12)
    assert np.allclose(step.layers[0].grad_W, grads[0][0].numpy(), atol=1e-12, rtol=0)
    assert np.allclose(step.layers[1].W_new, new[1][0].numpy(), atol=1e-12, rtol=0)


def test_spec_reads_inputs_and_targets_from_files(run, tmp_path):
    model = S(L(2, 3), nn.Sigmoid(), L(3, 2))
    np.save(tmp_path / "x.npy", np.array([[0.1, 0.2], [0.3, -0.4]]))
    (tmp_path / "t.csv").write_text("0\n1\n")
    result = run("spec", "--from-torch", saved(tmp_path, "m.pt", model), "--inputs",
                 tmp_path / "x.npy", "--targets", tmp_path / "t.csv", "--loss", "CrossEntropyLoss")
    assert result.exit_code == 0, result.stderr
    spec = parse_spec(result.stdout)
    assert spec.data.X.tolist() == [[0.1, 0.2], [0.3, -0.4]]
    assert spec.data.T.tolist() == [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize("obj, extra, words", [
    (lambda: Net(), [], "would run code from test_torch.Net"),
    (lambda: S(nn.Conv2d(1, 1, 3)), [], "model[0] (Conv2d"),
    (lambda: S(L(2, 2), nn.Dropout()), [], "model[1] (Dropout"),
    (lambda: S(L(2, 2)).state_dict(), [], "name the activation after each"),
    (lambda: S(L(2, 2), nn.ReLU(), L(3, 2)).state_dict(), ["--activations", "relu,identity"],
     "2.weight takes 3 input(s), but 0.weight gives 2"),
    (lambda: S(L(2, 2)).state_dict(), ["--activations", "swish"], "unknown 'swish'"),
    (lambda: S(L(2, 2)), ["--activations", "relu"], "holds a whole module"),
    (lambda: {"a": 1}, [], "expected a model's state dict"),
])
def test_spec_refuses_in_one_line(run, tmp_path, obj, extra, words):
    path = saved(tmp_path, "bad.pt", obj())
    out = tmp_path / "out.toml"
    out.write_text("kept")
    line = one_error_line(run("spec", "--from-torch", path, "--inputs", "[[0.1, 0.2]]",
                              "--targets", "[[0.0, 1.0]]", "--loss", "MSELoss", *extra, "-o", out))
    assert words in line
    assert out.read_text() == "kept"  # the user's file is not touched


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated, still read
def test_spec_refuses_torchscript_and_other_files(run, tmp_path):
    script = tmp_path / "script.pt"
    torch.jit.save(torch.jit.script(S(L(2, 2))), script)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a model")
    for path, words in ((script, "TorchScript"), (junk, "not a file written by torch.save"),
                        (tmp_path / "missing.pt", "no such file")):
        line = one_error_line(run("spec", "--from-torch", path, "--inputs", "[[0.1, 0.2]]",
                                  "--targets", "[[0.0, 1.0]]", "--loss", "MSELoss"))
        assert words in line


@pytest.mark.parametrize("args, words", [
    (["spec"], "give a spec"),
    (["spec", "mazur", "--from-torch", "m.pt"], "not both"),
    (["spec", "--from-torch", "m.pt", "--inputs", "[[1, 2]]"], "needs --targets, --loss"),
    (["spec", "mazur", "--loss", "MSELoss"], "--loss go with --from-torch"),
    (["spec", "--from-torch", "m.pt", "--inputs", "[[1", "--targets", "[[1]]", "--loss",
      "mse"], "neither a file nor JSON rows"),
])
def test_spec_options_in_one_line(run, tmp_path, args, words):
    torch.save(S(L(2, 1)), tmp_path / "m.pt")
    args = [str(tmp_path / a) if a == "m.pt" else a for a in args]
    assert words in one_error_line(run(*args))


def test_spec_of_a_preset_reads_back_the_same(run):
    result = run("spec", "mazur")
    assert result.exit_code == 0
    assert tracenn.step(parse_spec(result.stdout)).values() == tracenn.step("mazur").values()


# --------------------------------------------------------------------------------------------
# Without PyTorch, and the README
# --------------------------------------------------------------------------------------------


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_other_commands_never_import_torch():
    done = python("import sys\nfrom click.testing import CliRunner\nfrom tracenn.cli import cli\n"
                  "r = CliRunner().invoke(cli, ['mazur'])\nassert r.exit_code == 0\n"
                  "import tracenn; tracenn.step('mazur')\nprint('torch' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_torch_one_line_says_how_to_install_it():
    done = python("import sys\nsys.modules['torch'] = None  # as if PyTorch were not installed\n"
                  "import tracenn\ntry:\n    tracenn.check_torch(None, None, None, [], [])\n"
                  "except tracenn.UnsupportedError as e:\n    print(e)\n"
                  "from tracenn.cli import cli\nfrom click.testing import CliRunner\n"
                  "r = CliRunner().invoke(cli, ['spec', '--from-torch', 'm.pt', '--inputs', '[[1]]',"
                  " '--targets', '[[1]]', '--loss', 'mse'], prog_name='tracenn')\n"
                  "print(r.exit_code, r.stderr.strip())")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    said = ("PyTorch is not installed; install it from tracenn's checkout with "
            "pip install '.[torch]' (or pip install torch)")
    assert lines[0] == said
    assert lines[1] == "2 tracenn spec: error: " + said


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## From PyTorch", 1)[1].split("\n## ", 1)[0]


def test_the_readme_example_runs_and_prints_what_the_readme_shows():
    blocks = re.findall(r"```(\w*)\n(.*?)```", readme_section(), re.S)
    code = next(body for lang, body in blocks if lang == "python")
    shown = next(body for lang, body in blocks if lang == "text")
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == shown
