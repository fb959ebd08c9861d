"""Surrogate models that predict benchmark metrics from architecture features (no torch).

``XGBSurrogate`` follows the scikit-learn estimator contract; ``FeatureSpec`` says which features
(space encodings, GRAF-style graph features of the space's cell graph, proxy columns) a model uses
and is saved with it.
"""

from zcnas.surrogate.features import FeatureSpec
from zcnas.surrogate.model import XGBSurrogate

__all__ = ["FeatureSpec", "XGBSurrogate"]
