"""Redis scripts of the Redis broker, shipped as package data and loaded with
``importlib.resources`` (one script per atomic operation on a channel)."""
