"""The Migrations panel: review a folder of SQL migrations."""
