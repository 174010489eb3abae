"""Parsers the analyzers read through: headers as Node folds them, CSP, HTML pages, JS strings.

Pure text handling with no knowledge of tests or scores; imports nothing else from grade.
"""
