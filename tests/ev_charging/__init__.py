"""Tests of the ev_charging kind."""
