"""The MLflow "models from code" entry of the risk model: MLflow copies this file into the logged model and
runs it at load time, so the registry holds code and LightGBM text + JSON, no pickled Python object.

Do not import it: it exists to be run by ``mlflow.pyfunc.load_model`` (see ``training/train.py``).
"""

from mlflow.models import set_model

from models.pyfunc import RiskPyfunc

set_model(RiskPyfunc())
