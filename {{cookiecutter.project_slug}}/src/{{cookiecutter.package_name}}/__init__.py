"""{{ cookiecutter.project_name | replace('\\', '\\\\') | replace('"', '\\"') }}: {{ cookiecutter.description | replace('\\', '\\\\') | replace('"', '\\"') }}

Each lifecycle step is a module run as a DVC stage:
``python -m {{ cookiecutter.package_name }}.<step>``. The same functions are importable from
notebooks and tests.
"""

__version__ = "0.1.0"
