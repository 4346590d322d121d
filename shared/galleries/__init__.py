"""Persistent galleries: face lists, person groups, training and 1:N search."""
