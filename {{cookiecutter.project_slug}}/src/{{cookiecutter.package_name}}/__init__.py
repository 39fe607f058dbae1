"""{{ cookiecutter.project_name | replace('\\', '\\\\') | replace('"', '\\"') }}: {{ cookiecutter.description | replace('\\', '\\\\') | replace('"', '\\"') }}

Each lifecycle step is a DVC stage, ``python -m {{ cookiecutter.package_name }}.stages.<step>``;
the library beneath (``core``, ``data``, ``preparation``, ``modelling``, ``metrics``,
``decisions``, ``reporting``, ``monitoring``, ``serving``) is importable from notebooks and
tests; ``{{ cookiecutter.package_name }} --help`` lists the commands around the pipeline.

This file holds only this docstring: importing any module runs it, so code here would be a
dependency of every stage. The version is the distribution's
(``importlib.metadata.version("{{ cookiecutter.project_slug }}")``).
"""
