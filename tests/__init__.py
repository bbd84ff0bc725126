"""Tests of the PV Monitor integration."""
