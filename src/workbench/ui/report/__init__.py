"""The report in the desktop app: the PDF renderer (Qt), its charts, and the export dialog with a preview."""
