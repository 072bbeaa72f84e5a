"""Prediction drift: each model version's recent predictions against what it predicted at training time."""
