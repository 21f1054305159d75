"""The overview tab: charts of the findings and of the database statistics."""
