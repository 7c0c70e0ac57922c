"""The SQLite store: schema and migrations, the writer fed by the workers, event lists, users and the audit log."""
