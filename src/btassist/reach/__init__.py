"""Reaching everyone on the roster: who the bot cannot message, and installing the app for them."""
