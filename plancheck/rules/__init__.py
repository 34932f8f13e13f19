"""Rule sets in YAML, per treatment type, with inheritance by ``extends:``."""
