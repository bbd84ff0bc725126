"""Tests of the pv_system kind."""
