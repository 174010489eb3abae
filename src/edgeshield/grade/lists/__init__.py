"""Offline public lists the analyzers consult: the Public Suffix List and the HSTS preload list.

Thin cached wrappers over the packages that ship each list; imports nothing else from grade.
"""
