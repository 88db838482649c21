"""The algorithms ``kp.train.<name>`` offers: one small table, no heavy import.

Each :class:`Algorithm` names its estimator classes by import string (one per task), says whether
its inputs need scaling, which payload format saves it, and its own defaults. The plugin module
reads this table to register trainer records without importing scikit-learn; an algorithm object
is itself the trainer *factory* a record points at (``factory="kepler_sklearn.algorithms:ridge"``).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Algorithm:
    """One algorithm: its estimators by task and how to treat it."""

    name: str
    description: str
    #: task -> "module:Class" of the estimator for that task.
    estimators: dict[str, str]
    #: Scale numeric inputs (linear models, SVMs, distance-based methods need it; trees do not).
    scale: bool = False
    #: Payload format: "skops" (scikit-learn objects), "xgboost-ubj", "lightgbm-text".
    format: str = "skops"
    #: The library (import name) beyond scikit-learn that the algorithm needs, if any.
    library: str | None = None
    #: The pip extra that installs that library.
    extra: str | None = None
    #: Defaults that differ from the estimator's own, by parameter name.
    defaults: dict[str, Any] = field(default_factory=dict)
    #: Classifiers that need labels 0..k-1 (Kepler encodes and decodes them).
    encode_labels: bool = False

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self.estimators)

    @property
    def framework(self) -> str:
        return self.library or "scikit-learn"

    def available(self) -> bool:
        """Whether its library is installed (checked without importing it)."""
        return self.library is None or importlib.util.find_spec(self.library) is not None

    def __call__(self, config: Any) -> Any:
        """The trainer factory: ``TrainerSpec.create(config)`` calls this."""
        from .trainers import SklearnTrainer

        return SklearnTrainer(self, config)


random_forest = Algorithm(
    name="random_forest",
    description="Random forest (scikit-learn): robust default for tabular sensor data.",
    estimators={"classification": "sklearn.ensemble:RandomForestClassifier",
                "regression": "sklearn.ensemble:RandomForestRegressor"},
)
gradient_boosting = Algorithm(
    name="gradient_boosting",
    description="Gradient boosting (scikit-learn): accurate on small and medium tables.",
    estimators={"classification": "sklearn.ensemble:GradientBoostingClassifier",
                "regression": "sklearn.ensemble:GradientBoostingRegressor"},
)
hist_gradient_boosting = Algorithm(
    name="hist_gradient_boosting",
    description="Histogram gradient boosting (scikit-learn): fast on large tables.",
    estimators={"classification": "sklearn.ensemble:HistGradientBoostingClassifier",
                "regression": "sklearn.ensemble:HistGradientBoostingRegressor"},
)
extra_trees = Algorithm(
    name="extra_trees",
    description="Extremely randomized trees (scikit-learn).",
    estimators={"classification": "sklearn.ensemble:ExtraTreesClassifier",
                "regression": "sklearn.ensemble:ExtraTreesRegressor"},
)
logistic_regression = Algorithm(
    name="logistic_regression",
    description="Logistic regression (scikit-learn): a linear, explainable classifier.",
    estimators={"classification": "sklearn.linear_model:LogisticRegression"},
    scale=True, defaults={"max_iter": 1000},
)
linear_regression = Algorithm(
    name="linear_regression",
    description="Ordinary least squares (scikit-learn).",
    estimators={"regression": "sklearn.linear_model:LinearRegression"},
    scale=True,
)
ridge = Algorithm(
    name="ridge",
    description="Ridge: L2-regularized linear model (scikit-learn).",
    estimators={"regression": "sklearn.linear_model:Ridge",
                "classification": "sklearn.linear_model:RidgeClassifier"},
    scale=True,
)
lasso = Algorithm(
    name="lasso",
    description="Lasso: L1-regularized linear regression, selects features (scikit-learn).",
    estimators={"regression": "sklearn.linear_model:Lasso"},
    scale=True, defaults={"alpha": 0.01},
)
svm = Algorithm(
    name="svm",
    description="Support vector machine (scikit-learn); no predict_proba.",
    estimators={"classification": "sklearn.svm:SVC", "regression": "sklearn.svm:SVR"},
    scale=True,
)
knn = Algorithm(
    name="knn",
    description="k nearest neighbours (scikit-learn).",
    estimators={"classification": "sklearn.neighbors:KNeighborsClassifier",
                "regression": "sklearn.neighbors:KNeighborsRegressor"},
    scale=True,
)
isolation_forest = Algorithm(
    name="isolation_forest",
    description="Isolation forest (scikit-learn): anomaly detection; a target, if given, is "
    "used only to evaluate.",
    estimators={"anomaly": "sklearn.ensemble:IsolationForest"},
)
kmeans = Algorithm(
    name="kmeans",
    description="k-means clustering (scikit-learn); n_clusters=8 by default.",
    estimators={"clustering": "sklearn.cluster:KMeans"},
    scale=True,
)
xgboost = Algorithm(
    name="xgboost",
    description="XGBoost gradient boosting, saved in XGBoost's native UBJSON format.",
    estimators={"classification": "xgboost:XGBClassifier",
                "regression": "xgboost:XGBRegressor"},
    format="xgboost-ubj", library="xgboost", extra="kepler-sklearn[xgboost]",
    defaults={"n_jobs": 1}, encode_labels=True,
)
lightgbm = Algorithm(
    name="lightgbm",
    description="LightGBM gradient boosting, saved in LightGBM's native text format.",
    estimators={"classification": "lightgbm:LGBMClassifier",
                "regression": "lightgbm:LGBMRegressor"},
    format="lightgbm-text", library="lightgbm", extra="kepler-sklearn[lightgbm]",
    defaults={"verbose": -1, "n_jobs": 1}, encode_labels=True,
)

ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (
    random_forest, gradient_boosting, hist_gradient_boosting, extra_trees, logistic_regression,
    linear_regression, ridge, lasso, svm, knn, isolation_forest, kmeans, xgboost, lightgbm)}

#: What ``kp.train.compare`` tries when no algorithms are named, per task.
DEFAULT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "classification": ("random_forest", "hist_gradient_boosting", "extra_trees",
                       "logistic_regression"),
    "regression": ("random_forest", "hist_gradient_boosting", "extra_trees", "ridge"),
    "anomaly": ("isolation_forest",),
    "clustering": ("kmeans",),
}
