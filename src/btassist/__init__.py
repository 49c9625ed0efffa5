"""BT-assistenten: a Teams bot for the practical side of Swedish bastjänstgöring (BT)."""

__version__ = "0.1.0"
