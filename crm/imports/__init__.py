"""Imports of a town's data from other systems: historical requests, Open311 service lists,
and the CSV files they come in."""
