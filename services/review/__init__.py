"""The review service (web pages for human reviewers); the logic lives in `aios.review`."""
