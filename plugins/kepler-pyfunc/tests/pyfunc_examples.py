"""What the tests register: a statsmodels OLS as a model from code."""

import textwrap

FEATURES = ["pressure", "vibration", "rpm"]

#: A statsmodels OLS regression of a pump's efficiency, as a model from code: the fitted
#: parameters travel as JSON (an artifact), the prediction is statsmodels' own.
OLS_CODE = textwrap.dedent('''
    import json

    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    FEATURES = ["pressure", "vibration", "rpm"]


    class PumpEfficiency:
        """Predicts a pump's efficiency with a statsmodels OLS fitted elsewhere."""

        def load(self, artifacts):
            fitted = json.loads(artifacts["params"].read_text())
            self.params = pd.Series(fitted["params"])

        def predict(self, frame):
            X = sm.add_constant(frame[FEATURES].astype(float), has_constant="add")
            return np.asarray(X[self.params.index] @ self.params)
''')
