"""Short training with the NB201 recipe: deterministic for a seed, learns, leaves global RNG alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from zcnas.errors import InputError
from zcnas.ranking.train import TrainResult, augment, train_architecture

# cells that only pass their input through: the network is the stem, the two residual
# reductions and the classifier, the cheapest NB201 net that still learns
CHEAP = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"


def _run(epochs: int, n: int, seed: int = 0, **kw) -> TrainResult:
    return train_architecture("nb201", CHEAP, dataset="digits", epochs=epochs, batch_size=16,
                              max_train_images=n, max_test_images=120, seed=seed, device="cpu",
                              progress=False, **kw)


def test_one_epoch_is_deterministic_for_a_seed_and_keeps_global_rng():
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = _run(1, 96, seed=3)
    b = _run(1, 96, seed=3)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert a.epoch_acc == b.epoch_acc and a.train_loss == b.train_loss
    assert (a.n_train, a.n_test, a.epochs, a.device, a.dataset) == (96, 120, 1, "cpu", "digits")
    assert a.final_acc == a.epoch_acc[-1] and 0 <= a.final_acc <= 100 and a.seconds > 0
    c = _run(1, 96, seed=4)
    assert c.train_loss != a.train_loss


def test_short_training_learns_digits_above_chance():
    r = _run(3, 256, seed=0)
    assert len(r.epoch_acc) == 3
    assert r.train_loss[-1] < r.train_loss[0]
    assert r.final_acc > 30.0, r  # chance is 10 %


def test_record_matches_trainings_table():
    r = TrainResult(arch=CHEAP, dataset="digits", epoch_acc=[20.0, 41.5], final_acc=41.5, seconds=1.25,
                    device="cpu", epochs=2, seed=7, n_train=10, n_test=5)
    rec = r.to_record("run-1", "nasbench201")
    assert rec == {"run_key": "run-1", "space": "nb201", "arch": CHEAP, "dataset": "digits", "epochs": 2,
                   "seed": 7, "epoch_acc": "[20.0, 41.5]", "final_acc": 41.5, "seconds": 1.25,
                   "device": "cpu"}
    assert json.loads(rec["epoch_acc"]) == [20.0, 41.5]


def test_augment_crops_and_flips_within_the_padded_image():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8) + 1.0
    g = torch.Generator().manual_seed(0)
    out = augment(x, g, padding=2)
    assert out.shape == x.shape
    values = set(torch.unique(out).tolist())
    assert values <= set(torch.unique(x).tolist()) | {0.0}  # original pixels or zero padding
    out2 = augment(x, torch.Generator().manual_seed(0), padding=2)
    assert torch.equal(out, out2)
    same = augment(x, torch.Generator().manual_seed(0), padding=0)  # no padding: x or its mirror
    for i in range(2):
        assert torch.equal(same[i], x[i]) or torch.equal(same[i], x[i].flip(-1))


def test_bad_parameters_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="'epochs' parameter"):
        train_architecture("nb201", CHEAP, dataset="digits", epochs=0, progress=False)
    with pytest.raises(InputError, match="'lr' parameter"):
        train_architecture("nb201", CHEAP, dataset="digits", lr=-1.0, progress=False)
    with pytest.raises(InputError, match="Malformed NB201 string"):
        train_architecture("nb201", "|conv~0|", dataset="digits", progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            train_architecture("nb201", CHEAP, dataset="digits", device="cuda", progress=False)
    path = tmp_path / "one.npz"
    np.savez(path, x=np.zeros((8, 8, 8, 3), np.uint8), y=np.arange(8) % 2)
    with pytest.raises(InputError, match="same images for the train and test"):
        train_architecture("nb201", CHEAP, dataset="npz", data_dir=str(path), progress=False)
