"""Model families, the preprocessing pipeline they sit in, and saving fitted models.
"""
