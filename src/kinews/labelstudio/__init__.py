"""Annotation sessions in Label Studio: the export format, the client, push/pull/import, review."""
