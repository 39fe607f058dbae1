"""Data: sources (built-in examples and your files), specs (types, ids, labels), validation,
profiles, the prepared tables as model inputs, and accepted labelled batches.

This file imports nothing, so that a stage pays (and DVC tracks) only the modules it uses.
"""
