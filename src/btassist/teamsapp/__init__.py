"""The Teams app package (manifest and icons) that installs the bot in Microsoft Teams."""
