"""Qt item models: thin adapters over immutable core objects."""
