"""Organisational metrics per trust and month, and comparison groups for retention."""
