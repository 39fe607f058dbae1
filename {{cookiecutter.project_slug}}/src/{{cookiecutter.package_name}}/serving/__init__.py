"""Serving the champion over HTTP: MLflow's scoring app with the project's input checks.
"""
