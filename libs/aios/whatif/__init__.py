"""What-if replay: a window of recorded traffic through a candidate model and policy, beside what happened."""
