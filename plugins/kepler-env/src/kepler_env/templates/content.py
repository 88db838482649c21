"""What differs between the templates: requirements and the modelling cells of the notebook."""

from __future__ import annotations

from dataclasses import dataclass

FEATURES = '["temperature", "pressure", "vibration", "flow", "rpm", "power_kw"]'
BASE_REQUIREMENTS = """\
# What the model needs in every environment (dev, staging, prod).
# Kepler and its plugins are installed by `kepler env create` from where they are installed now.
pandas>=2.1
scikit-learn>=1.4
joblib>=1.3
"""
DEV_REQUIREMENTS = """\
# Dev only (prod never installs these): notebooks and tests.
ipykernel>=6.29
matplotlib>=3.8
pytest>=8
"""


@dataclass(frozen=True)
class Template:
    name: str
    summary: str
    #: SPL the notebook runs against the test server's ``pumps`` index.
    spl: str
    #: Code cells that fit and evaluate the model on ``df``.
    model_cells: tuple[str, ...]
    requirements: str = BASE_REQUIREMENTS
    dev_requirements: str = DEV_REQUIREMENTS
    prod_env_extra: str = ""


_SPL = ("search index=pumps | table _time asset_id site temperature pressure vibration flow "
        "rpm power_kw status failure")

CLASSIFICATION = Template(
    name="classification",
    summary="Predict pump failures (the `failure` flag) from sensor readings pulled from Splunk.",
    spl=_SPL,
    model_cells=(
        f"""\
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

features = {FEATURES}
X = df[features].apply(pd.to_numeric, errors="coerce").fillna(0.0)
y = pd.to_numeric(df["failure"], errors="coerce").fillna(0).astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
model = RandomForestClassifier(n_estimators=200, class_weight="balanced", random_state=0)
model.fit(X_train, y_train)
print(classification_report(y_test, model.predict(X_test), digits=3, zero_division=0))""",
        """\
importances = pd.Series(model.feature_importances_, index=features).sort_values()
importances""",
    ),
)

REGRESSION = Template(
    name="regression",
    summary="Predict a pump's power draw (`power_kw`) from its other sensor readings.",
    spl=_SPL,
    model_cells=(
        """\
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split

features = ["temperature", "pressure", "vibration", "flow", "rpm"]
X = df[features].apply(pd.to_numeric, errors="coerce").fillna(0.0)
y = pd.to_numeric(df["power_kw"], errors="coerce").fillna(0.0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
model = HistGradientBoostingRegressor(random_state=0).fit(X_train, y_train)
predicted = model.predict(X_test)
print(f"MAE {mean_absolute_error(y_test, predicted):.3f} kW, "
      f"R² {r2_score(y_test, predicted):.3f}")""",
    ),
)

ANOMALY = Template(
    name="anomaly",
    summary="Find unusual pump behaviour without labels (IsolationForest), checked against "
    "known failures.",
    spl=_SPL,
    model_cells=(
        f"""\
import pandas as pd
from sklearn.ensemble import IsolationForest

features = {FEATURES}
X = df[features].apply(pd.to_numeric, errors="coerce").fillna(0.0)
model = IsolationForest(n_estimators=200, contamination=0.02, random_state=0).fit(X)
df["anomaly"] = model.predict(X) == -1
df["score"] = -model.score_samples(X)
pd.crosstab(df["anomaly"], df["failure"], rownames=["flagged"], colnames=["failure"])""",
        """\
df.sort_values("score", ascending=False).head(10)[["_time", "asset_id", "score", "failure"]]""",
    ),
)

FORECASTING = Template(
    name="forecasting",
    summary="Forecast a pump's next temperature readings from the previous ones (lag features).",
    spl=("search index=pumps asset_id=* | table _time asset_id temperature pressure vibration "
         "failure"),
    model_cells=(
        """\
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error

asset = df["asset_id"].iloc[0]
series = (df[df["asset_id"] == asset].sort_values("_time")
          .set_index("_time")["temperature"].astype(float))
lags = pd.concat({f"lag_{k}": series.shift(k) for k in range(1, 13)}, axis=1)
frame = lags.assign(target=series).dropna()
cut = int(len(frame) * 0.8)  # train on the past, test on the future
train, test = frame.iloc[:cut], frame.iloc[cut:]
model = HistGradientBoostingRegressor(random_state=0)
model.fit(train.drop(columns="target"), train["target"])
forecast = model.predict(test.drop(columns="target"))
print(f"{asset}: MAE {mean_absolute_error(test['target'], forecast):.3f} °C "
      f"(last value as forecast: {mean_absolute_error(test['target'], test['lag_1']):.3f} °C)")""",
    ),
)

DEEP_LEARNING = Template(
    name="deep-learning",
    summary="A small PyTorch network that predicts pump failures; runs on CPU, or GPU when "
    "there is one.",
    spl=_SPL,
    requirements=BASE_REQUIREMENTS + "torch>=2.2\n",
    prod_env_extra=("    env: {gpu: false}   # `kepler env create --gpu` adds CUDA packages "
                    "(conda)\n"),
    model_cells=(
        f"""\
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

features = {FEATURES}
X = df[features].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(np.float32)
y = pd.to_numeric(df["failure"], errors="coerce").fillna(0).to_numpy(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
scaler = StandardScaler().fit(X_train)
device = "cuda" if torch.cuda.is_available() else "cpu"
to_tensor = lambda a: torch.tensor(a, device=device)  # noqa: E731
X_train_t, X_test_t = to_tensor(scaler.transform(X_train)), to_tensor(scaler.transform(X_test))
y_train_t = to_tensor(y_train).unsqueeze(1)""",
        """\
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(len(features), 32), torch.nn.ReLU(),
                          torch.nn.Linear(32, 1)).to(device)
weight = torch.tensor([(len(y_train) - y_train.sum()) / max(y_train.sum(), 1.0)], device=device)
loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=weight)
optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
for epoch in range(30):
    optimizer.zero_grad()
    loss = loss_fn(net(X_train_t), y_train_t)
    loss.backward()
    optimizer.step()
with torch.no_grad():
    predicted = (torch.sigmoid(net(X_test_t)).squeeze(1) > 0.5).cpu().numpy()
recall = (predicted & (y_test == 1)).sum() / max((y_test == 1).sum(), 1)
print(f"device {device}, loss {loss.item():.3f}, failure recall {recall:.2f}")""",
    ),
)

TEMPLATES = {t.name: t for t in (CLASSIFICATION, REGRESSION, ANOMALY, FORECASTING, DEEP_LEARNING)}
