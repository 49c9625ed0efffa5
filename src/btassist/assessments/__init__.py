"""Region assessment policies and each BT doctor's plan of assessments, meetings and start tasks."""
