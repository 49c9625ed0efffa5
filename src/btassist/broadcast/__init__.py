"""Coordinators' announcements: audiences, drafts, queuing, delivery records, reports and audit."""
