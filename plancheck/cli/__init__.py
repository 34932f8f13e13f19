"""The plancheck command: one small module per sub-command, gathered in main.py."""
