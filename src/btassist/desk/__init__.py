"""The coordinator's desk: Excel files sent to the bot and handed out, the cohort overview."""
