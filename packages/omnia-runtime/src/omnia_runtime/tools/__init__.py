"""Tools the runtime offers the model: the interface in ``base``, adapters per handler type beside it."""
