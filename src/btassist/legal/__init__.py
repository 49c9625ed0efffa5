"""The privacy notice and terms of use (/privacy, /terms) and the retention rules they state."""
