"""Proxy engine: contract tests over every registered proxy, golden values, failure handling."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from zcnas import get_space
from zcnas.errors import InputError, ProxyError, UnknownNameError
from zcnas.proxies import (
    PROXIES,
    ProxyContext,
    ProxySpec,
    get_proxy,
    list_proxies,
    resolve_proxies,
    run_proxy,
    score_model,
)

ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def tiny_net(seed: int = 0, arch: str = ARCH) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return get_space("nb201").build(arch, num_classes=5, channels=4, cells_per_stage=1)


def tiny_batch(seed: int = 0, n: int = 8):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 16, 16, generator=g), torch.randint(0, 5, (n,), generator=g)


def snapshot(model: nn.Module):
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
                for m in model.modules())
    return ({k: v.clone() for k, v in model.state_dict().items()}, model.training, hooks,
            [p.grad for p in model.parameters()], [type(m) for m in model.modules()],
            [m.training for m in model.modules()], ["forward" in vars(m) for m in model.modules()])


@pytest.mark.parametrize("name", list_proxies())
def test_proxy_contract(name):
    """Every registered proxy: metadata declared, finite value, deterministic, model untouched."""
    spec = get_proxy(name)
    assert isinstance(spec.higher_is_better, bool) and isinstance(spec.needs_data, bool)
    assert spec.description and spec.reference, "cite the paper and describe the proxy"
    assert not spec.needs_labels or spec.needs_data
    model, batch = tiny_net(), tiny_batch()
    before = snapshot(model)
    r1 = score_model(model, batch if spec.needs_data else None, [name], input_shape=(3, 16, 16))[name]
    r2 = score_model(model, batch if spec.needs_data else None, [name], input_shape=(3, 16, 16))[name]
    assert r1.ok, r1.reason
    assert math.isfinite(r1.value) and r1.seconds >= 0
    assert r1.value == r2.value  # deterministic for a fixed seed and batch
    after = snapshot(model)
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert before[1:] == after[1:]  # mode, hooks, grads and module types unchanged
    if spec.needs_data:
        with pytest.raises(InputError, match="needs a data batch"):
            score_model(model, None, [name])


@pytest.fixture(scope="module")
def shared_scores():
    return score_model(tiny_net(1), tiny_batch(1), list_proxies(), share=True, input_shape=(3, 16, 16))


@pytest.mark.parametrize("name", list_proxies())
def test_shared_passes_give_same_values(name, shared_scores):
    """Computing all proxies with shared passes gives bitwise the values of each one alone."""
    shared = shared_scores
    alone = score_model(tiny_net(1), tiny_batch(1), [name], share=False, input_shape=(3, 16, 16))
    assert shared[name].value == alone[name].value


# Golden values on the tiny seeded network above (torch 2.x CPU, float32 except synflow).
GOLDEN = {
    "grad_norm": 8.96683120727539,
    "snip": 9.813629150390625,
    "synflow": 647433700.9970009,
    "synflow_bn": 647396620.2757943,
    "jacob_cov": -8.082636634075092,
    "naswot": 69.78848038504381,
    "params": 0.011753,
    "flops": 0.776352,
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_values(name):
    value = score_model(tiny_net(), tiny_batch(), [name], input_shape=(3, 16, 16), raise_errors=True)[name].value
    assert value == pytest.approx(GOLDEN[name], rel=1e-4, abs=1e-6)


def test_directions_from_registry():
    assert get_proxy("synflow").higher_is_better and get_proxy("naswot").higher_is_better
    assert get_proxy("jacov").name == "jacob_cov" and get_proxy("nwot").name == "naswot"
    assert not get_proxy("synflow").needs_data and get_proxy("grad_norm").needs_labels


def test_unknown_proxy_did_you_mean():
    with pytest.raises(UnknownNameError, match="Did you mean 'synflow'"):
        resolve_proxies("synflw")
    with pytest.raises(UnknownNameError, match="Known proxys?: .*naswot"):
        get_proxy("zzz")


def test_list_pattern():
    assert set(list_proxies("syn*")) == {"synflow", "synflow_bn"}
    assert "jacob_cov" in list_proxies("jacov")  # aliases match patterns too


def _spec(fn, name="test_proxy"):
    return ProxySpec(name, fn, True, False, False, reference="test")


def test_nan_inf_and_exceptions_are_recorded_failures():
    ctx = ProxyContext(tiny_net(), None, input_shape=(3, 16, 16))
    for fn, fragment in [(lambda c: float("nan"), "non-finite"), (lambda c: float("inf"), "non-finite"),
                         (lambda c: 1 / 0, "ZeroDivisionError")]:
        r = run_proxy(_spec(fn), ctx)
        assert r.status == "failed" and math.isnan(r.value) and fragment in r.reason
        with pytest.raises(ProxyError, match=fragment):
            run_proxy(_spec(fn), ctx, raise_errors=True)


def test_naswot_singular_kernel_fails_cleanly():
    # identical images give identical codes: the kernel is singular, a failure with a reason
    x = torch.zeros(4, 3, 16, 16)
    r = score_model(tiny_net(), (x, torch.zeros(4, dtype=torch.long)), ["naswot"])["naswot"]
    assert r.status == "failed" and "singular" in r.reason


def test_any_module_and_batch_forms():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(5))
    net(torch.zeros(1, 3, 16, 16))  # materialise the lazy layer
    x, y = tiny_batch()
    res = score_model(net, (x, y), "grad_norm,snip,naswot,synflow,params")
    assert all(r.ok for r in res.values()), {k: r.reason for k, r in res.items()}
    with pytest.raises(InputError, match="proxy batch"):
        score_model(net, 42, ["snip"])


def test_scoring_restores_modes_and_forwards_even_when_the_network_fails():
    """The engine runs the caller's modules on private tensor copies (no deep copy), switching
    modes and bypassing batch norm for synflow: a model in mixed modes comes back as it was, also
    when its forward raises half-way."""
    model, batch = tiny_net(), tiny_batch()
    model.train()
    model.cells[0].eval()  # mixed modes, as a user's half-frozen network
    before = snapshot(model)
    res = score_model(model, batch, ["synflow", "synflow_bn", "jacob_cov", "naswot", "snip"], input_shape=(3, 16, 16))
    assert all(r.ok for r in res.values())
    assert snapshot(model)[1:] == before[1:]

    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    model.classifier = Boom()
    before = snapshot(model)
    res = score_model(model, batch, ["synflow", "jacob_cov"], input_shape=(3, 16, 16))
    assert all(r.status == "failed" and "boom" in r.reason for r in res.values())
    after = snapshot(model)
    assert after[1:] == before[1:]


def test_registry_rejects_duplicate_names():
    with pytest.raises(InputError, match="already registered"):
        PROXIES.add("synflow", None)


def test_out_of_memory_splits_the_batch(monkeypatch):
    """An out-of-memory error (by type) makes the engine retry with the batch split in chunks."""
    model, (x, y) = tiny_net(2), tiny_batch(2, n=8)
    whole = score_model(model, (x, y), ["naswot", "jacob_cov", "grad_norm"], input_shape=(3, 16, 16))
    import zcnas.proxies.base as base

    real = base.ProxyContext._chunked_pass
    seen = []

    def limited(self, batch, loss, jacobian, codes, chunks):
        seen.append(chunks)
        if chunks < 2:
            raise torch.OutOfMemoryError("simulated: CUDA out of memory")
        return real(self, batch, loss, jacobian, codes, chunks)

    monkeypatch.setattr(base.ProxyContext, "_chunked_pass", limited)
    split = score_model(model, (x, y), ["naswot", "jacob_cov", "grad_norm"], input_shape=(3, 16, 16))
    assert seen == [1, 2]
    assert all(r.ok for r in split.values())
    # batch-norm statistics are per chunk now, so values move a little but stay close
    for name in whole:
        assert split[name].value == pytest.approx(whole[name].value, rel=0.25)


def test_code_kernel_single_product_equals_two_products_bitwise():
    """The NASWOT kernel from one float32 product is exactly the textbook two float64 products."""
    from zcnas.proxies.base import _add_code_kernel

    g = torch.Generator().manual_seed(0)
    for d in (1, 37, 16384):
        codes = torch.rand(12, d, generator=g) > 0.3
        c = codes.double()
        textbook = torch.zeros(12, 12, dtype=torch.float64).add_(c @ c.t()).add_((1 - c) @ (1 - c).t())
        fast = torch.zeros(12, 12, dtype=torch.float64)
        _add_code_kernel(fast, codes)
        assert torch.equal(fast, textbook)


def test_channels_last_agrees_with_nchw_and_leaves_model_alone():
    """The faster NHWC layout gives the same proxy values up to float32 rounding (same order), and
    the caller's model keeps its layout."""
    names = ["synflow", "jacob_cov", "grad_norm", "snip", "naswot"]
    nets = [tiny_net(s, a) for s, a in enumerate([ARCH, "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|"
                                                   "skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"])]
    for net in nets:
        ref = score_model(net, tiny_batch(), names, memory_format="contiguous", raise_errors=True)
        fast = score_model(net, tiny_batch(), names, memory_format="channels_last", raise_errors=True)
        for n in names:
            assert fast[n].value == pytest.approx(ref[n].value, rel=1e-3), n
        assert all(p.is_contiguous() for p in net.parameters())
    with pytest.raises(InputError, match="memory format"):
        score_model(nets[0], tiny_batch(), ["naswot"], memory_format="nhwc")
