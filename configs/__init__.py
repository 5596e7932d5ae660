"""Package data, installed as `stance.configs`: the training config and the alias table."""
