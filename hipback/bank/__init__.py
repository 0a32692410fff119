"""The question bank: its frozen dataclasses and the loader that builds them from YAML."""
