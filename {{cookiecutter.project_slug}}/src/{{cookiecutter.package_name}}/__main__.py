"""``python -m {{ cookiecutter.package_name }}``: the command line (see ``cli.py``)."""

from .cli import main

main()
