"""Label quality (confident learning), reviewed corrections and the train/valid/test splits.
"""
