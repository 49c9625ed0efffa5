"""Notices to people outside a turn: their kinds, the unit of work that queues them, the queue."""
