"""Tests of the dsmr kind."""
