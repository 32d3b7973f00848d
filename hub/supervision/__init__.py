"""Supervision (监督检查): the three-way cross-check, alerts with a lifecycle, freezes and prechecks."""
