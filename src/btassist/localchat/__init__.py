"""Trying the bot without Teams or Azure: local Bot Connector, chat client, terminal REPL."""
