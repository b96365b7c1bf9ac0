"""Warehouse adapters: the `Adapter` contract and one module per warehouse."""
