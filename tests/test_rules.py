"""Tests for xlperf.rules: cross-field checks, lint and the pandera schema, in process."""
