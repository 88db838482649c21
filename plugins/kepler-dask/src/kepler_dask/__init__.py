"""kepler-dask: Kepler's batches of independent tasks (comparing candidates, one model per
asset, scoring in partitions) on a Dask cluster, through the ``kepler_executors`` hook.

    kp.train.per_group(df, by="asset_id", algorithm="random_forest",
                       target="failure", executor="dask://scheduler:8786")
"""

__version__ = "0.1.0"
