"""Saved connections: the list, the profile dialog, URI import and password prompts."""
