"""Tests of the growatt_cloud kind."""
