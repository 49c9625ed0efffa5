"""The sv/en message catalogue and the choice of language for a person."""
