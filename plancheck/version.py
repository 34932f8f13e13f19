"""plancheck's version: one place, read by the package, the CLI, saved runs and the build."""

__version__ = "0.1.0"
