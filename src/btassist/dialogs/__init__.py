"""Conversation flows: intent or card click to replies (no Bot Framework types)."""
