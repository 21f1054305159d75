"""Render audit results and reviews: JSON (the contract), Markdown and plain text."""
