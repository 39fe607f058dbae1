"""What every stage shares: settings and their loading, file paths, atomic files, errors, MLflow
tracking and the model registry.
"""
