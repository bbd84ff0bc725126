"""Home Assistant glue that every kind shares, written once (no kind imports it back)."""
