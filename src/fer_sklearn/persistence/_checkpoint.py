"""Checkpoints after every epoch, and resuming from the last one along the same curve.

:class:`EpochCheckpoint` (a skorch ``Checkpoint``) saves the weights,
optimizer, criterion and history after every finished epoch, together with
what skorch's own checkpoints leave out: the random generators' states and the
state of the learning-rate schedule, early stopping (with its best weights)
and the scores' best values. :class:`ResumeTraining` (a skorch
``LoadInitState``) restores all of it, so a resumed run trains the epochs that
were left exactly as the uninterrupted run would have.

Each epoch is written into a new folder that is renamed into place when
complete, then ``latest.json`` is replaced to point at it: a process killed at
any moment leaves the previous checkpoint intact.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from skorch.callbacks import Checkpoint, EarlyStopping, LoadInitState, LRScheduler

from ..utils import atomic_write

_LATEST = "latest.json"
_STATE = ("state.json", "state.safetensors")


class EpochCheckpoint(Checkpoint):
    """Save everything needed to resume training after every epoch, atomically.

    Parameters
    ----------
    dirname : str or path
        The checkpoint folder: ``epoch-NNNN/`` (the last finished epoch) and
        ``latest.json`` pointing at it.
    **kwargs
        Other :class:`skorch.callbacks.Checkpoint` parameters (file names).

    See Also
    --------
    ResumeTraining : Continue a training from this checkpoint.

    Examples
    --------
    >>> import tempfile
    >>> from fer_sklearn import EmotionClassifier, make_faces
    >>> from fer_sklearn.persistence import EpochCheckpoint, ResumeTraining
    >>> X, y = make_faces(70, size=24, random_state=0)
    >>> checkpoint = EpochCheckpoint(tempfile.mkdtemp())
    >>> net = EmotionClassifier(max_epochs=2, module__width=4, module__depth=2, random_state=0,
    ...                         callbacks=[checkpoint, ResumeTraining(checkpoint)], verbose=0)
    >>> _ = net.fit(X / 255, y)
    >>> checkpoint.finished_epochs()
    2
    """

    def __init__(self, dirname, **kwargs):
        kwargs.setdefault("monitor", None)  # every epoch
        kwargs.setdefault("event_name", None)  # no column in the history
        super().__init__(dirname=str(dirname), **kwargs)

    def latest(self):
        """Find the folder of the last finished epoch.

        Returns
        -------
        folder : pathlib.Path or None
            None when there is none.
        """
        try:
            pointer = json.loads((Path(self.dirname) / _LATEST).read_text())
        except (OSError, ValueError):
            return None
        folder = Path(self.dirname) / str(pointer.get("folder", ""))
        return folder if pointer.get("folder") and folder.is_dir() else None

    def finished_epochs(self):
        """Count the epochs the checkpoint holds.

        Returns
        -------
        n_epochs : int
            0 when there is none.
        """
        folder = self.latest()
        return 0 if folder is None else len(json.loads((folder / self.f_history).read_text()))

    def files(self, folder):
        """Name the files of the checkpoint in ``folder``.

        Parameters
        ----------
        folder : pathlib.Path
            One epoch's folder.

        Returns
        -------
        files : dict of {str: str}
            The ``f_*`` arguments of ``load_params``.
        """
        names = {"f_params": self.f_params, "f_optimizer": self.f_optimizer,
                 "f_criterion": self.f_criterion, "f_history": self.f_history}
        return {key: str(Path(folder) / name) for key, name in names.items() if name}

    def save_model(self, net):
        """Write the epoch's checkpoint into a new folder, then point ``latest.json`` at it.

        Parameters
        ----------
        net : EmotionClassifier
            The net being trained.
        """
        root = Path(self.dirname)
        final = root / f"epoch-{len(net.history):04d}"
        with atomic_write(final) as partial:
            partial.mkdir(parents=True)
            self.dirname = str(partial)
            try:
                super().save_model(net)  # skorch reports a failed write only to its sink
            finally:
                self.dirname = str(root)
            missing = [p for p in self.files(partial).values() if not os.path.exists(p)]
            if missing:
                raise OSError(f"could not write the checkpoint file {missing[0]}")
            _save_state(net, partial)
        with atomic_write(root / _LATEST) as partial:
            partial.write_text(json.dumps({"folder": final.name, "epochs": len(net.history)}))
        # older epochs, and what a run killed while writing one left behind
        for old in [*root.glob("epoch-*"), *root.glob(".epoch-*.partial*")]:
            if old != final:
                shutil.rmtree(old, ignore_errors=True)


class ResumeTraining(LoadInitState):
    """Resume a training from the last epoch of an :class:`EpochCheckpoint`, if there is one.

    Put it after the checkpoint in ``callbacks``. At the start of ``fit`` it
    loads the weights, optimizer, criterion and history, and restores the
    random generators and the other callbacks' state, so the remaining epochs
    follow the same learning-rate schedule (and, on the same machine, the same
    numbers) as an uninterrupted run. Pass ``epochs=`` to ``fit`` to train only
    the epochs left (``max_epochs - checkpoint.finished_epochs()``).

    Parameters
    ----------
    checkpoint : EpochCheckpoint
        The checkpoint to resume from.
    """

    def __init__(self, checkpoint):
        super().__init__(checkpoint)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Restore the checkpoint, once.

        Parameters
        ----------
        net : EmotionClassifier
            The net about to train.
        X, y : array-like, default=None
            Its training data (unused).
        **kwargs : dict
            The other arguments of skorch's hook (unused).
        """
        if self.did_load_:
            return
        self.did_load_ = True
        folder = self.checkpoint.latest()
        if folder is not None:
            net.load_params(**self.checkpoint.files(folder))
            _restore_state(net, folder)


def _save_state(net, folder):
    """The random generators' and the callbacks' state, as JSON and safetensors."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    tensors = {"torch_rng": torch.get_rng_state(),
               "numpy_rng": torch.from_numpy(keys.astype(np.int64))}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, rng in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda_rng.{i}"] = rng
    callbacks = {}
    for name, callback in net.callbacks_:
        state = {}
        if isinstance(callback, EarlyStopping):
            state = {k: getattr(callback, k)
                     for k in ("misses_", "dynamic_threshold_", "best_epoch_")}
            for key, value in (getattr(callback, "best_model_weights_", None) or {}).items():
                tensors[f"best.{name}.{key}"] = value.detach().cpu().contiguous()
        if isinstance(callback, LRScheduler) and callback.lr_scheduler_ is not None:
            state = {"batch_idx_": callback.batch_idx_,
                     "lr_scheduler_": callback.lr_scheduler_.state_dict()}
        if hasattr(callback, "best_score_"):
            state["best_score_"] = float(callback.best_score_)
        if state:
            callbacks[name] = state
    info = {"numpy_rng": [kind, int(pos), int(has_gauss), float(cached)], "callbacks": callbacks}
    try:
        text = json.dumps(info)
    except TypeError as exc:
        raise ValueError(f"cannot checkpoint the callbacks' state ({exc})") from None
    (folder / _STATE[0]).write_text(text)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / _STATE[1]))


def _restore_state(net, folder):
    info = json.loads((folder / _STATE[0]).read_text())
    tensors = load_file(str(folder / _STATE[1]))
    for name, callback in net.callbacks_:
        state = info["callbacks"].get(name, {})
        if isinstance(callback, LRScheduler) and "lr_scheduler_" in state:
            callback.lr_scheduler_.load_state_dict(state.pop("lr_scheduler_"))
        if isinstance(callback, EarlyStopping) and callback.load_best:
            prefix = f"best.{name}."
            best = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            callback.best_model_weights_ = best or None
        for attr, value in state.items():
            setattr(callback, attr, value)
    kind, pos, has_gauss, cached = info["numpy_rng"]
    np.random.set_state((kind, tensors["numpy_rng"].numpy().astype(np.uint32), pos, has_gauss,
                         cached))
    torch.set_rng_state(tensors["torch_rng"])
    n_cuda = sum(key.startswith("cuda_rng.") for key in tensors)
    cuda = [tensors[f"cuda_rng.{i}"] for i in range(n_cuda)]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
