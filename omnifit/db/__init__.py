"""Database connection settings shared by the cloud service and payments (neither owns the other)."""
