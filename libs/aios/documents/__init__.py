"""Documents (invoices, insurance claims): reading PDFs and scans, OCR, fields, checks — a library without the stack.

`extract_document` is the one entry point; `services/extract` and `aios documents` call it.
"""
