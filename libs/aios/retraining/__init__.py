"""Retraining from feedback: the original data plus reviewers' labels, judged on a fixed holdout before registering."""
