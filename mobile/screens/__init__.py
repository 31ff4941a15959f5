"""The app's screens, one module per screen (or pair), each with its ``.kv`` file in ``mobile/kv``."""
