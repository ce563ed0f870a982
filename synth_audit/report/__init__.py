"""Rendering an AuditReport: report.json, report.html and audit_card.md."""
