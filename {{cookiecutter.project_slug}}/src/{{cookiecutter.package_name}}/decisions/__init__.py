"""The lifecycle's verdicts: the charter and its criteria, comparisons in words, the deploy gate,
the next actions of the error analysis, and who may move ``champion``.
"""
