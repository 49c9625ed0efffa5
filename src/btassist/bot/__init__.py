"""Bot Framework transport (the only package importing botbuilder): adapter, handler, sender."""
