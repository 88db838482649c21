"""The training contract: keywords, splits, preprocessing, errors, the Model API, kp.train.sklearn."""

from __future__ import annotations

import kepler as kp
import numpy as np
import pandas as pd
import pytest
from kepler.api import ModelError, ModelInputError, TrainingError
from plugin_subscriber import Subscriber
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def test_unknown_parameters_list_the_valid_ones(sensors):
    with pytest.raises(TrainingError, match="Did you mean 'n_estimators'") as info:
        kp.train.random_forest(sensors, target="failure", n_estimator=10)
    assert "Unknown parameter(s) for random_forest (RandomForestClassifier): n_estimator" \
        in info.value.message
    assert "max_depth" in info.value.hint and "test_size" in info.value.hint


def test_invalid_parameter_values_carry_scikit_learns_words(sensors):
    with pytest.raises(TrainingError, match="random_forest failed to train.*n_estimators"):
        kp.train.random_forest(sensors, target="failure", n_estimators=-1)


def test_a_target_that_is_not_a_column_lists_the_columns(sensors):
    with pytest.raises(TrainingError, match="Did you mean 'failure'") as info:
        kp.train.random_forest(sensors, target="failures")
    assert "temperature" in info.value.hint and "efficiency" in info.value.hint
    with pytest.raises(TrainingError, match="'speed' is not a column"):
        kp.train.random_forest(sensors, target="failure", features=["temperature", "speed"])
    with pytest.raises(TrainingError, match="needs a target"):
        kp.train.random_forest(sensors)
    with pytest.raises(TrainingError, match="also listed as a feature"):
        kp.train.random_forest(sensors, target="failure", features=["failure", "rpm"])


def test_the_task_is_inferred_from_the_target(sensors):
    assert kp.train.ridge(sensors, target="failure").task == "classification"
    assert kp.train.ridge(sensors, target="efficiency").task == "regression"
    assert kp.train.ridge(sensors, target="failure", task="regression").task == "regression"
    with pytest.raises(TrainingError, match="linear_regression does not do classification"):
        kp.train.linear_regression(sensors, target="failure")
    sensors["state"] = np.where(sensors["failure"] == 1, "fault", "ok")
    with pytest.raises(TrainingError, match="regression needs numbers"):
        kp.train.ridge(sensors, target="state", task="regression")
    with pytest.raises(TrainingError, match="Unknown task 'forecast'"):
        kp.train.ridge(sensors, target="failure", task="forecast")


def test_split_time_holds_out_the_newest_rows_even_when_shuffled(sensors):
    shuffled = sensors.sample(frac=1.0, random_state=3)
    model = kp.train.random_forest(shuffled, target="failure", split="time", n_estimators=10)
    periods = model.manifest.evaluation
    newest_120 = sensors["_time"].iloc[-120]
    assert periods["test_period"]["from"] == newest_120.isoformat()
    assert periods["train_period"]["to"] < periods["test_period"]["from"]
    with pytest.raises(TrainingError, match="no datetime column") as info:
        kp.train.random_forest(sensors.drop(columns=["_time"]), target="failure", split="time")
    assert "time_column=" in info.value.hint
    with pytest.raises(TrainingError, match="Unknown split 'newest'"):
        kp.train.random_forest(sensors, target="failure", split="newest")


def test_cross_validation_reports_every_fold_and_fits_on_all_rows(sensors):
    model = kp.train.logistic_regression(sensors, target="failure", cv=3)
    training = model.manifest.training
    assert (training.evaluated_on, training.cv, training.rows_train) == ("cv", 3, 600)
    per_fold = model.manifest.evaluation["per_fold"]["f1"]
    assert len(per_fold) == 3 and model.metrics["f1"] == pytest.approx(np.mean(per_fold))
    timed = kp.train.ridge(sensors, target="efficiency", cv=3, split="time")
    assert len(timed.manifest.evaluation["per_fold"]["rmse"]) == 3


def test_preprocessing_is_inside_the_model(sensors):
    sensors["serial"] = [f"SN-{i:05d}" for i in range(len(sensors))]  # an id: not a feature
    model = kp.train.logistic_regression(sensors, target="failure")
    assert "serial" not in model.features
    assert any("left out 'serial'" in n for n in model.manifest.training.notes)
    raw = sensors.drop(columns=["failure"]).head(5).to_dict("records")
    assert len(model.predict(raw)) == 5  # raw records: categories, datetimes, missing values
    one = {**raw[0], "pump": "pump-99", "mode": None}  # an unseen category is fine
    assert model.predict(one).shape == (1,)
    without_optional = sensors.drop(columns=["flow"])  # flow had gaps in training: optional
    assert len(model.predict(without_optional)) == 600
    with pytest.raises(ModelInputError, match="lacks required feature.*'vibration'") as info:
        model.predict(sensors.drop(columns=["vibration"]))
    assert "temperature" in info.value.hint
    bad = sensors.head(3).copy().astype({"temperature": object})
    bad.loc[1, "temperature"] = "hot"
    with pytest.raises(ModelInputError, match="'temperature' must be a number; got 'hot'"):
        model.predict(bad)
    times_as_text = sensors.head(3).assign(_time=sensors["_time"].head(3).astype(str))
    assert np.array_equal(model.predict(times_as_text), model.predict(sensors.head(3)))
    with pytest.raises(TrainingError, match="too many distinct values"):
        kp.train.ridge(sensors, target="failure", features=["serial", "rpm"])


def test_rows_without_a_target_are_dropped_and_noted(sensors):
    sensors.loc[:9, "efficiency"] = np.nan
    model = kp.train.ridge(sensors, target="efficiency")
    assert model.manifest.training.rows_train + model.manifest.training.rows_test == 590
    assert "dropped 10 row(s) with no value in the target 'efficiency'" in \
        model.manifest.training.notes


def test_bad_inputs_fail_clearly():
    with pytest.raises(TrainingError, match="The training data is empty"):
        kp.train.ridge(pd.DataFrame({"x": [], "y": []}), target="y")
    with pytest.raises(TrainingError, match="too few to hold out"):
        kp.train.ridge(pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]}), target="y")
    with pytest.raises(TrainingError, match="only one class"):
        kp.train.logistic_regression(pd.DataFrame({"x": range(10), "y": [1] * 10}), target="y")
    with pytest.raises(TrainingError, match="test_size must be between 0 and 1"):
        kp.train.ridge(pd.DataFrame({"x": range(10), "y": range(10)}), target="y", test_size=2)
    with pytest.raises(ModelError, match="Invalid model name 'bad name!'"):
        kp.train.ridge(pd.DataFrame({"x": range(10), "y": range(10)}), target="y",
                       name="bad name!")


def test_the_model_api(sensors, project, kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    model = kp.train.random_forest(sensors, target="failure", n_estimators=10, save=True)
    assert (model.name, model.version) == ("failure-random_forest", 1)
    assert model.path == project / ".kepler" / "models" / "failure-random_forest" / "1"
    assert model.schema["vibration"].kind == "number" and "pump" in model.schema
    info = model.info()
    assert info["metrics"] == model.metrics and info["baseline_is"] == "majority class"
    assert info["beats_baseline"] is True and info["features"][0]["name"] == "pump"
    html = model._repr_html_()
    assert "failure-random_forest" in html and "<table>" in html and "f1 (main)" in html
    assert "left out: _time <i>(Splunk field)</i>" in html and "split=&#x27;auto&#x27;" in html
    assert repr(model).startswith("<Model failure-random_forest v1: random_forest classification")
    assert repr(model).endswith("; 8 features, left out: _time>")
    [(_, event)] = subscriber.events
    assert event.trainer == "random_forest" and event.artifact_path == str(model.path)
    with pytest.raises(ModelError, match="RidgeClassifier gives no class probabilities"):
        kp.train.ridge(sensors, target="failure").predict_proba(sensors)


def test_kp_train_sklearn_takes_an_instance_a_class_or_an_import_path(sensors, kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    by_instance = kp.train.sklearn(LogisticRegression(C=0.5), sensors, target="failure")
    assert by_instance.algorithm == "LogisticRegression"
    assert by_instance.manifest.params["C"] == 0.5
    by_path = kp.train.sklearn("sklearn.neighbors:KNeighborsClassifier", sensors,
                               target="failure", n_neighbors=3)
    assert by_path.predict_proba(sensors).shape == (600, 2)
    assert by_path.manifest.params["n_neighbors"] == 3
    by_class = kp.train.sklearn(LogisticRegression, sensors, target="failure", C=2.0)
    assert by_class.manifest.params["C"] == 2.0
    assert [e.trainer for _, e in subscriber.events] == ["sklearn"] * 3
    with pytest.raises(TrainingError, match="Unknown parameter.*LogisticRegression"):
        kp.train.sklearn(LogisticRegression(), sensors, target="failure", depth=3)
    with pytest.raises(TrainingError, match="Cannot import 'nope.module:Thing'"):
        kp.train.sklearn("nope.module:Thing", sensors, target="failure")
    with pytest.raises(TrainingError, match="not a scikit-learn-compatible estimator"):
        kp.train.sklearn(object(), sensors, target="failure")


def test_kp_train_sklearn_keeps_an_instances_own_seed(sensors):
    from sklearn.ensemble import RandomForestClassifier

    model = kp.train.sklearn(RandomForestClassifier(n_estimators=5, random_state=42), sensors,
                             target="failure")
    assert model.manifest.params["random_state"] == 42


def test_kp_train_sklearn_without_kepler_preprocessing(sensors, project):
    own = make_pipeline(make_column_transformer((StandardScaler(), ["temperature", "vibration"])),
                        LogisticRegression())
    model = kp.train.sklearn(own, sensors, target="failure", preprocess=False,
                             features=["temperature", "vibration"], save=True)
    loaded = kp.models.load(model.name)
    assert loaded.predictor.preprocess is None
    assert np.array_equal(loaded.predict(sensors), model.predict(sensors))


def test_xgboost_given_as_an_instance_keeps_its_native_format(sensors, project):
    from xgboost import XGBRegressor

    model = kp.train.sklearn(XGBRegressor(n_estimators=5), sensors, target="efficiency").save()
    assert model.manifest.format.name == "xgboost-ubj"
    assert np.array_equal(kp.models.load(model.name).predict(sensors), model.predict(sensors))


def test_split_group_holds_out_whole_groups(sensors):
    model = kp.train.random_forest(sensors, target="failure", split="group", groups="pump",
                                   test_size=0.25, n_estimators=10)
    training = model.manifest.training
    assert training.split == "group" and "pump" not in model.features
    assert training.rows_train + training.rows_test == len(sensors)
    counts = sensors["pump"].value_counts()
    assert training.rows_test in set(counts)  # one of the four pumps, whole
    cv = kp.train.logistic_regression(sensors, target="failure", split="group", groups="pump",
                                      cv=2)
    assert cv.manifest.evaluation["folds"] == 2
    with pytest.raises(TrainingError, match="goes with split='group'"):
        kp.train.random_forest(sensors, target="failure", split="random", groups="pump")
