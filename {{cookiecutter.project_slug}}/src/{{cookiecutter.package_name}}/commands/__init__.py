"""The command line's subcommands (``<package> --help``): serve, score, accept, promote, repair.
"""
