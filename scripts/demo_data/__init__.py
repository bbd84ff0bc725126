"""Demo data of ``scripts/develop``: one real measured day replayed coherently (see profile)."""
