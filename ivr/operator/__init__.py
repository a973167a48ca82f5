"""Operators' prompt work: building prompt audio, human recordings, native-speaker reviews, the operator page."""
