"""Retention campaigns: randomised assignment, power, and evaluation on survival endpoints."""
