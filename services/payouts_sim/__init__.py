"""The payout simulator: a payment provider's HTTP API for the demo and the tests."""
