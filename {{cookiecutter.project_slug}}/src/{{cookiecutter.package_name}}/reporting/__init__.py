"""What people read: the error-analysis report and the figures.
"""
