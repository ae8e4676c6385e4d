"""Peer libraries as shipped, wrapped in cinerec's ``Recommender`` protocol.

Wrapped this way, a peer goes through the same harness as cinerec's own models
(:func:`cinerec.evaluation.harness.run_evaluation`): the same split, the same full ranking over
the catalog with the history excluded, the same metric code and bootstrap, in one run.

- ``implicit-als`` and ``implicit-bpr``: ``implicit`` with its default hyperparameters.
  ALS folds a history in (``recalculate_user``); BPR cannot, so it uses the factor learned for
  the training user whose training history the case's history starts with.
- ``lightfm-warp``: ``lightfm-next`` (the maintained LightFM fork) with the settings of
  LightFM's quickstart (WARP, learning rate 0.05, 10 epochs, 10 components); no fold-in
  either, so it finds the user the same way as BPR.
- ``lightfm-warp-hybrid``: the same with user features (demographics and the items of the
  history) and item features (id and genres): LightFM's hybrid, which scores a cold-start
  user from a new feature row.
- ``recbole-sasrec`` and ``recbole-bert4rec``: RecBole 1.2.1's models with their default
  configs (full-softmax cross-entropy, 50 positions, 300 epochs with early stopping after 10
  epochs without a better validation MRR@10). RecBole gets the training interactions plus
  each user's validation item, which its own leave-one-out split (``valid_only``) then holds
  out for early stopping, exactly as a RecBole user would run it on this split.

None of these libraries is a cinerec dependency: ``benchmarks/requirements-peers.txt``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cinerec.data.types import Interactions, Rated, ScoredItem, Vocabulary
from cinerec.evaluation.protocols import EvalCase, EvaluationTask
from cinerec.recommenders._common import blocked_indices, top_n
from cinerec.recommenders.base import TrainingOptions

PEERS = (
    "implicit-als",
    "implicit-bpr",
    "lightfm-warp",
    "lightfm-warp-hybrid",
    "recbole-sasrec",
    "recbole-bert4rec",
)


class _UserLookup:
    """Finds the training user a history belongs to, for peers that cannot fold a user in.

    A case's history is the user's training history, possibly followed by their validation
    item (the leave-one-out test cases), so the longest matching prefix identifies the user.
    """

    def __init__(self, train: Interactions) -> None:
        ordered = train.frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
        self._users: dict[tuple[int, ...], int] = {}
        for user, items in ordered.groupby("user_id", sort=True)["item_id"]:
            self._users[tuple(int(i) for i in items)] = train.users.index(int(user))

    def find(self, history: Sequence[Rated]) -> int:
        ids = tuple(h.movie_id for h in history)
        for cut in (len(ids), len(ids) - 1):
            if ids[:cut] in self._users:
                return self._users[ids[:cut]]
        raise KeyError("the history does not start with any training user's history")


class _PeerBase:
    name = "peer"

    def save(self, path: Path) -> None:
        raise NotImplementedError(f"{self.name} is a benchmark peer; it is not saved")

    @classmethod
    def load(cls, path: Path) -> Self:
        raise NotImplementedError("benchmark peers are not loaded from disk")


class ImplicitPeer(_PeerBase):
    """``implicit``'s ALS or BPR with the library's defaults."""

    def __init__(self, kind: str) -> None:
        self.name = f"implicit-{kind}"
        self.kind = kind
        self.config: dict[str, Any] = {"defaults": True}

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        from threadpoolctl import threadpool_limits

        cls = AlternatingLeastSquares if self.kind == "als" else BayesianPersonalizedRanking
        self._model = cls(num_threads=options.threads, random_state=options.seed)
        self._items = interactions.items
        self._lookup = _UserLookup(interactions)
        with threadpool_limits(limits=1, user_api="blas"):
            self._model.fit(
                interactions.to_csr(binary=True).astype(np.float32), show_progress=False
            )

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        seen = self._items.indices([h.movie_id for h in history])
        row = sp.csr_matrix(
            (np.ones(len(seen), np.float32), (np.zeros(len(seen), int), seen)),
            shape=(1, len(self._items)),
        )
        if self.kind == "als":
            user = 0
            ids, scores = self._model.recommend(
                user, row, N=len(self._items), recalculate_user=True
            )
        else:
            user = self._lookup.find(history)
            ids, scores = self._model.recommend(user, row, N=len(self._items))
        full = np.full(len(self._items), -np.inf)
        full[ids] = scores
        return top_n(full, self._items, n, blocked_indices(history, exclude, self._items))


class LightFMPeer(_PeerBase):
    """``lightfm-next`` WARP with the settings of LightFM's quickstart."""

    name = "lightfm-warp"

    def __init__(self, epochs: int = 10, learning_rate: float = 0.05, components: int = 10) -> None:
        self.config = {
            "loss": "warp",
            "epochs": epochs,
            "learning_rate": learning_rate,
            "no_components": components,
        }

    def _new_model(self, options: TrainingOptions) -> Any:
        from lightfm import LightFM

        return LightFM(
            loss="warp",
            learning_rate=self.config["learning_rate"],
            no_components=self.config["no_components"],
            random_state=options.seed,
        )

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        self._items = interactions.items
        self._lookup = _UserLookup(interactions)
        self._threads = options.threads
        self._model = self._new_model(options)
        matrix = interactions.to_csr(binary=True).tocoo().astype(np.float32)
        self._model.fit(matrix, epochs=self.config["epochs"], num_threads=options.threads)
        self._all = np.arange(len(self._items), dtype=np.int32)

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        user = self._lookup.find(history)
        scores = self._model.predict(user, self._all, num_threads=self._threads)
        return top_n(scores, self._items, n, blocked_indices(history, exclude, self._items))


class LightFMHybridPeer(LightFMPeer):
    """``lightfm-next`` WARP with user and item features, the quickstart's other settings kept.

    Users are described by their features (age bucket, gender, occupation, as
    :func:`cinerec.recommenders.hybrid.user_tokens` writes them) plus one ``item=<id>`` feature
    per item in their history; items by their id and genres. Rows are normalised to sum 1, as
    ``lightfm.data.Dataset`` does. The history features are LightFM's usual way to score a
    user it was not trained on: a cold-start user's known items and demographics are a new
    feature row, no retraining.
    """

    name = "lightfm-warp-hybrid"

    def __init__(self, epochs: int = 10, learning_rate: float = 0.05, components: int = 10) -> None:
        super().__init__(epochs, learning_rate, components)
        self.config |= {
            "user_features": "demographics + history items",
            "item_features": "id + genres",
        }
        self._user_features: Mapping[int, Mapping[str, Any]] = {}
        self._item_features: Mapping[int, Sequence[str]] = {}

    def fit_features(
        self,
        user_features: Mapping[int, Mapping[str, Any]],
        item_features: Mapping[int, Sequence[str]],
    ) -> None:
        self._user_features, self._item_features = user_features, item_features

    def _row(self, tokens: Sequence[str]) -> sp.csr_matrix:
        columns = sorted({self._tokens[t] for t in tokens if t in self._tokens})
        data = np.full(len(columns), 1.0 / max(len(columns), 1), dtype=np.float32)
        return sp.csr_matrix(
            (data, (np.zeros(len(columns), int), columns)), shape=(1, len(self._tokens))
        )

    def _user_row(self, history: Sequence[Rated], features: Mapping[str, Any] | None) -> list[str]:
        from cinerec.recommenders.hybrid import user_tokens

        return user_tokens(features) + [f"item={h.movie_id}" for h in history]

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        self._items, self._threads = interactions.items, options.threads
        ordered = interactions.frame.sort_values(["user_id", "timestamp"], kind="stable")
        rows = {
            int(u): [Rated(int(i)) for i in items]
            for u, items in ordered.groupby("user_id", sort=True)["item_id"]
        }
        user_rows = [
            self._user_row(rows.get(int(u), []), self._user_features.get(int(u)))
            for u in interactions.users.ids
        ]
        vocabulary = sorted({t for row in user_rows for t in row})
        self._tokens = {t: k for k, t in enumerate(vocabulary)}
        users = sp.vstack([self._row(row) for row in user_rows]).tocsr()
        genres = sorted({g for i in self._items.ids for g in self._item_features.get(int(i), ())})
        genre_column = {g: len(self._items) + k for k, g in enumerate(genres)}
        r, c, v = [], [], []
        for row, item in enumerate(self._items.ids):
            columns = [row] + [genre_column[g] for g in self._item_features.get(int(item), ())]
            r += [row] * len(columns)
            c += columns
            v += [1.0 / len(columns)] * len(columns)
        self._item_matrix = sp.csr_matrix(
            (np.asarray(v, np.float32), (r, c)),
            shape=(len(self._items), len(genre_column) + len(self._items)),
        )
        self._model = self._new_model(options)
        matrix = interactions.to_csr(binary=True).tocoo().astype(np.float32)
        self._model.fit(
            matrix,
            user_features=users,
            item_features=self._item_matrix,
            epochs=self.config["epochs"],
            num_threads=options.threads,
        )

    def recommend_for(
        self,
        history: Sequence[Rated],
        n: int,
        exclude: Collection[int] = (),
        features: Mapping[str, Any] | None = None,
    ) -> list[ScoredItem]:
        row = self._row(self._user_row(history, features))
        scores = self._model.predict(
            np.zeros(len(self._items), dtype=np.int32),
            np.arange(len(self._items), dtype=np.int32),
            user_features=row,
            item_features=self._item_matrix,
            num_threads=self._threads,
        )
        return top_n(scores, self._items, n, blocked_indices(history, exclude, self._items))

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        return self.recommend_for(history, n, exclude)


def _numpy_aliases() -> None:
    """RecBole 1.2.1 still uses aliases that NumPy 1.24 and 2.0 removed (``np.float``,
    ``np.long``, and ``np.float_`` in its own compatibility shim): put them back."""
    aliases = {
        "float_": np.float64,
        "complex_": np.complex128,
        "unicode_": np.str_,
        "float": float,
        "int": int,
        "bool": bool,
        "long": np.int64,
    }
    for alias, value in aliases.items():
        if alias not in np.__dict__:
            setattr(np, alias, value)


@contextlib.contextmanager
def _inside(directory: Path) -> Iterator[None]:
    """RecBole writes ``log_tensorboard/`` under the working directory: keep it in ``directory``."""
    before = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


class RecBolePeer(_PeerBase):
    """A RecBole sequential model with its default config, early-stopped on the validation items."""

    def __init__(
        self, model: str, validation: Sequence[EvalCase], overrides: Mapping[str, Any] | None = None
    ) -> None:
        self.model_name = model
        self.name = f"recbole-{model.lower()}"
        self._validation = {c.user_id: c.targets[0] for c in validation}
        self._overrides = dict(overrides or {})
        self.config: dict[str, Any] = {"defaults": True, **self._overrides}

    def _inter_file(self, interactions: Interactions, path: Path) -> None:
        frame = interactions.frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
        frame = frame[["user_id", "item_id"]]
        extra = pd.DataFrame(
            {"user_id": list(self._validation), "item_id": list(self._validation.values())}
        )
        missing = set(frame["user_id"].unique()) - set(extra["user_id"])
        if missing:
            raise ValueError(f"{len(missing)} training users have no validation item")
        frame = pd.concat([frame, extra], ignore_index=True)
        # The order of each user's rows is the split's order: write it as the timestamp.
        frame["timestamp"] = frame.groupby("user_id", sort=False).cumcount().astype(float)
        frame.columns = ["user_id:token", "item_id:token", "timestamp:float"]
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, sep="\t", index=False)

    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        import torch

        _numpy_aliases()
        from recbole.config import Config
        from recbole.data import create_dataset, data_preparation
        from recbole.trainer import Trainer
        from recbole.utils import get_model, init_seed

        torch.set_num_threads(options.threads)
        self._dir = Path(tempfile.mkdtemp(prefix="recbole-"))
        self._inter_file(interactions, self._dir / "data" / "cinerec" / "cinerec.inter")
        settings = {
            "data_path": str(self._dir / "data"),
            "checkpoint_dir": str(self._dir / "saved"),
            "use_gpu": False,
            "show_progress": False,
            "log_wandb": False,
            "seed": options.seed,
            "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
            # The protocol, not a model setting: the last item of each sequence validates.
            "eval_args": {
                "split": {"LS": "valid_only"},
                "order": "TO",
                "group_by": "user",
                "mode": "full",
            },
            "train_neg_sample_args": None,
            **self._overrides,
        }
        with _inside(self._dir):
            config = Config(model=self.model_name, dataset="cinerec", config_dict=settings)
            init_seed(config["seed"], config["reproducibility"])
            dataset = create_dataset(config)
            train_data, valid_data, _ = data_preparation(config, dataset)
            model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
            trainer = Trainer(config, model)
            trainer.fit(train_data, valid_data, saved=True, show_progress=False, verbose=True)
            state = torch.load(trainer.saved_model_file, map_location="cpu", weights_only=False)
        model.load_state_dict(state["state_dict"])
        model.eval()
        self._model = model
        self._config = config
        self._dataset = dataset
        self.config = {
            **self.config,
            "epochs": config["epochs"],
            "stopping_step": config["stopping_step"],
            "best_epoch": int(state["epoch"]),
            "best_valid_mrr@10": float(trainer.best_valid_score),
            "max_len": config["MAX_ITEM_LIST_LENGTH"],
            "learning_rate": config["learning_rate"],
            "train_batch_size": config["train_batch_size"],
        }
        tokens = dataset.field2id_token[dataset.iid_field]
        # RecBole's internal id i (1..) is token tokens[i]; 0 is padding.
        self._items = Vocabulary(sorted(int(t) for t in tokens[1:]))
        self._to_internal = {int(t): i for i, t in enumerate(tokens) if i > 0}
        self._columns = np.array([self._items.index(int(t)) for t in tokens[1:]])

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        import torch
        from recbole.data.interaction import Interaction

        max_len = self._config["MAX_ITEM_LIST_LENGTH"]
        ids = [self._to_internal[h.movie_id] for h in history if h.movie_id in self._to_internal]
        ids = ids[-max_len:]
        seq = torch.zeros((1, max_len), dtype=torch.long)
        seq[0, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        batch = Interaction(
            {
                self._model.ITEM_SEQ: seq,
                self._model.ITEM_SEQ_LEN: torch.tensor([len(ids)], dtype=torch.long),
            }
        )
        with torch.no_grad():
            raw = self._model.full_sort_predict(batch).view(-1).numpy()
        scores = np.full(len(self._items), -np.inf)
        scores[self._columns] = raw[1 : len(self._columns) + 1]
        return top_n(scores, self._items, n, blocked_indices(history, exclude, self._items))


def build_peer(name: str, config: Mapping[str, Any] | None, task: EvaluationTask) -> Any:
    """A fresh peer ``name`` for ``task`` (RecBole needs the task's validation cases)."""
    config = dict(config or {})
    if name in ("implicit-als", "implicit-bpr"):
        return ImplicitPeer(name.removeprefix("implicit-"))
    if name == "lightfm-warp":
        return LightFMPeer(**config)
    if name == "lightfm-warp-hybrid":
        return LightFMHybridPeer(**config)
    if name in ("recbole-sasrec", "recbole-bert4rec"):
        if not task.validation:
            raise ValueError(
                f"{name} early-stops on validation items; protocol {task.protocol} has none"
            )
        model = {"recbole-sasrec": "SASRec", "recbole-bert4rec": "BERT4Rec"}[name]
        return RecBolePeer(model, task.validation, config)
    raise KeyError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
