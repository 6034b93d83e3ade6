"""Conversation loop and conversation state stores."""
