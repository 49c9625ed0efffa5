"""Trying the bot in a browser (local mode): Microsoft's Web Chat on a local Direct Line."""
