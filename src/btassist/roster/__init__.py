"""The cohort: regions, people and their roles, BT programmes, placements, and the CSV import."""
