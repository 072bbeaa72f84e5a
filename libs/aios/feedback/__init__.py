"""Reviewers' corrections as training data: labelled examples exported for `aios model train`."""
