"""One module per DVC stage, in lifecycle order (``dvc.yaml`` runs ``python -m <package>.stages.<name>``).

A stage reads its settings and inputs, calls the library beneath, writes its outputs and logs
its MLflow run. No stage imports another.
"""
