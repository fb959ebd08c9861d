"""Confirmation by real short training: the space's own benchmark recipe on a real image set.

The recipe is registered with the space (``space.training_recipe``, a
:class:`zcnas.spaces.TrainingRecipe`: SGD momentum / Nesterov, learning rate with a per-step cosine
to 0 or constant, weight decay, batch size, epochs, crop-and-flip augmentation, gradient clipping,
label smoothing); ``epochs``, ``batch_size`` and ``lr`` may be overridden per call. Trains on the
dataset's train split and reports test accuracy (percent) after every epoch. On CUDA it uses mixed
precision (autocast + GradScaler); on the CPU full precision.

Randomness is explicit: the initial weights come from ``seed`` inside ``torch.random.fork_rng`` and
the data order and augmentation from a ``torch.Generator``; the caller's global RNG state is not
touched. CPU runs with the same seed give the same accuracies.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from zcnas.arch import Architecture
from zcnas.data import ImageSet, load_images
from zcnas.errors import InputError, check_int
from zcnas.spaces import get_space
from zcnas.spaces.base import SearchSpace, TrainingRecipe

CROP_PADDING = 4
EVAL_BATCH = 500


@dataclass
class TrainResult:
    """One short training run; accuracies in percent on the dataset's test split."""

    arch: str
    dataset: str
    epoch_acc: list[float]
    final_acc: float
    seconds: float
    device: str
    epochs: int
    seed: int
    n_train: int
    n_test: int
    batch_size: int = 256
    lr: float = 0.1
    train_loss: list[float] = field(default_factory=list)

    def to_record(self, run_key: str, space: str | SearchSpace) -> dict[str, Any]:
        """A row of the record store's ``trainings`` table."""
        name = space.name if isinstance(space, SearchSpace) else get_space(space).name
        return {
            "run_key": run_key, "space": name, "arch": self.arch, "dataset": self.dataset,
            "epochs": int(self.epochs), "seed": int(self.seed),
            "epoch_acc": json.dumps([round(float(a), 4) for a in self.epoch_acc]),
            "final_acc": float(self.final_acc), "seconds": float(self.seconds), "device": self.device,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _resolve_device(device: str | None) -> Any:
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"The 'device' parameter of train_architecture must be 'cpu', 'cuda' or "
                         f"'cuda:<i>'. Got {device!r} instead.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} was asked for but CUDA is not available; use device='cpu' "
                         f"or leave device unset.")
    if dev.type not in ("cpu", "cuda"):
        raise InputError(f"The 'device' parameter of train_architecture must be 'cpu' or 'cuda'. "
                         f"Got {device!r} instead.")
    return dev


def augment(x: Any, generator: Any, padding: int = CROP_PADDING) -> Any:
    """Random crop with zero padding and random horizontal flip of a float NCHW batch.

    Offsets and flips are drawn from ``generator`` (a CPU ``torch.Generator``).
    """
    import torch
    import torch.nn.functional as F

    b, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    oy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
    ox = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
    flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
    rows = oy[:, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = ox[:, None] + torch.arange(w, device=x.device)  # (B, W)
    cols = torch.where(flip[:, None], cols.flip(1), cols)  # flipping = reading columns backwards
    bi = torch.arange(b, device=x.device)[:, None, None]
    out = padded[bi, :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


def _subset(images: ImageSet, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if n is None or n >= len(images):
        return images.x, images.y
    idx = np.sort(np.random.default_rng(seed).choice(len(images), size=n, replace=False))
    return images.x[idx], images.y[idx]


def train_architecture(
    space: str | SearchSpace,
    arch: Architecture | str,
    *,
    dataset: str = "cifar10",
    data_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str | None = None,
    max_train_images: int | None = None,
    max_test_images: int | None = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train ``arch`` from scratch with its space's recipe and return its test accuracy per epoch.

    ``epochs``, ``batch_size`` and ``lr`` default to the recipe's (``space.training_recipe``).

    ``dataset``/``data_dir`` are as for :func:`zcnas.data.load_images` (``"digits"`` needs no
    download). ``max_train_images`` / ``max_test_images`` use seeded random subsets of the train /
    test split (to fit a CPU budget; the full splits by default).
    ``device=None`` picks CUDA when present, else the CPU. ``progress`` shows a tqdm bar on stderr.
    """
    import torch
    from torch import nn

    sp = space if isinstance(space, SearchSpace) else get_space(space)
    a = sp.coerce(arch)
    arch_str = sp.format(a)
    owner = "train_architecture"
    recipe: TrainingRecipe | None = sp.training_recipe
    if recipe is None:
        raise InputError(f"Space {sp.name!r} registers no training recipe, so zcnas cannot train its networks; "
                         f"confirm with a benchmark instead (--confirm benchmark).")
    epochs = recipe.epochs if epochs is None else epochs
    batch_size = recipe.batch_size if batch_size is None else batch_size
    lr = recipe.lr if lr is None else lr
    check_int("epochs", epochs, owner, minimum=1)
    check_int("batch_size", batch_size, owner, minimum=2)
    check_int("seed", seed, owner, minimum=0)
    if max_train_images is not None:
        check_int("max_train_images", max_train_images, owner, minimum=2)
    if max_test_images is not None:
        check_int("max_test_images", max_test_images, owner, minimum=1)
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) or lr <= 0:
        raise InputError(f"The 'lr' parameter of {owner} must be a float > 0. Got {lr!r} instead.")
    dev = _resolve_device(device)
    use_amp = dev.type == "cuda"

    train_set = load_images(dataset, data_dir, "train")
    test_set = load_images(dataset, data_dir, "test")
    if len(train_set) == len(test_set) and np.array_equal(train_set.y, test_set.y) \
            and np.array_equal(train_set.x, test_set.x):
        raise InputError(f"Dataset {dataset!r} at {train_set.source!r} gives the same images for the train and "
                         f"test splits, so accuracy would be measured on training images; provide separate "
                         f"test arrays (x_test / y_test in an npz).")
    x_train, y_train = _subset(train_set, max_train_images, seed)
    x_test, y_test = _subset(test_set, max_test_images, seed + 1)
    n_train, n_test = len(y_train), len(y_test)

    def to_dev(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        xt = torch.from_numpy(np.array(x, dtype=np.uint8)).permute(0, 3, 1, 2).contiguous().to(dev)
        return xt, torch.from_numpy(np.array(y, dtype=np.int64)).to(dev)  # a writable copy

    xtr, ytr = to_dev(x_train, y_train)  # uint8 on the device; converted per batch
    xte, yte = to_dev(x_test, y_test)
    mean = torch.tensor(train_set.mean, dtype=torch.float32, device=dev).view(1, -1, 1, 1)
    std = torch.tensor(train_set.std, dtype=torch.float32, device=dev).view(1, -1, 1, 1)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = sp.build(a, num_classes=train_set.num_classes, input_shape=tuple(int(v) for v in (
            x_train.shape[3], x_train.shape[1], x_train.shape[2])))
    cl = torch.channels_last  # NHWC: about twice as fast for these convolutions and pools on CPU
    model = model.to(dev, memory_format=cl)
    if recipe.optimizer == "rmsprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=lr, momentum=recipe.momentum, eps=recipe.eps,
                                  weight_decay=recipe.weight_decay)
    elif recipe.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay,
                              nesterov=recipe.nesterov and recipe.momentum > 0)
    else:
        raise InputError(f"Training recipe of {sp.name!r} names optimizer {recipe.optimizer!r}; zcnas trains with "
                         f"'sgd' or 'rmsprop'.")
    scaler = torch.amp.GradScaler("cuda") if use_amp else None
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    gen = torch.Generator().manual_seed(seed)

    steps_per_epoch = n_train // batch_size + (1 if n_train % batch_size >= 2 else 0)
    total_steps = max(1, epochs * steps_per_epoch)

    def evaluate() -> float:
        model.eval()
        correct = 0
        with torch.no_grad(), torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
            for i in range(0, n_test, EVAL_BATCH):
                xb = ((xte[i:i + EVAL_BATCH].float().div_(255.0) - mean) / std).contiguous(memory_format=cl)
                correct += int((model(xb).argmax(1) == yte[i:i + EVAL_BATCH]).sum())
        return 100.0 * correct / n_test

    from tqdm.auto import tqdm

    epoch_acc: list[float] = []
    train_loss: list[float] = []
    step = 0
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc=f"train {arch_str}", unit="epoch", file=sys.stderr,
               disable=None if progress is None else not progress, leave=True, dynamic_ncols=True)
    for _epoch in bar:
        model.train()
        order = torch.randperm(n_train, generator=gen).to(dev)
        loss_sum, seen = 0.0, 0
        for i in range(0, n_train, batch_size):
            idx = order[i:i + batch_size]
            if len(idx) < 2:  # batch norm cannot train on a single image
                continue
            if recipe.schedule == "cosine":
                for group in opt.param_groups:
                    group["lr"] = 0.5 * lr * (1.0 + math.cos(math.pi * step / total_steps))
            xb = xtr[idx].float().div_(255.0)
            if recipe.augment == "crop_flip":
                xb = augment(xb, gen, recipe.crop_padding)
            xb = ((xb - mean) / std).contiguous(memory_format=cl)
            yb = ytr[idx]
            opt.zero_grad(set_to_none=True)
            with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
                loss = loss_fn(model(xb), yb)
            if scaler is not None:
                scaler.scale(loss).backward()
                if recipe.grad_clip:
                    scaler.unscale_(opt)
                    nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                if recipe.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
                opt.step()
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
            step += 1
        train_loss.append(loss_sum / max(seen, 1))
        epoch_acc.append(evaluate())
        bar.set_postfix(loss=f"{train_loss[-1]:.3f}", acc=f"{epoch_acc[-1]:.2f}%")
    bar.close()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    return TrainResult(arch=arch_str, dataset=train_set.name, epoch_acc=epoch_acc, final_acc=epoch_acc[-1],
                       seconds=seconds, device=str(dev), epochs=epochs, seed=seed, n_train=n_train,
                       n_test=n_test, batch_size=batch_size, lr=float(lr), train_loss=train_loss)


__all__ = ["TrainResult", "augment", "train_architecture"]
