"""Tests of the growatt_local kind."""
