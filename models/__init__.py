"""Package data, installed as `stance.models`: the shipped default model lives in `default/`."""
