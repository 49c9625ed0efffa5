"""Mandatory BT courses: the catalogue, sessions, enrolment with seats and waitlists, completion."""
