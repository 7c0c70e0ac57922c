"""Counter analytics from stored zone samples: waits, service sessions, absences, daily reports and their charts."""
