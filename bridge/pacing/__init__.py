"""Pacing sends below a platform's rate limits, in one process or shared by replicas."""
