"""The I/O edge: live scans of real sites (``scanner``) and the targets users type (``targets``).

The only room of grade that touches the network; what it collects goes to
``grade.scoring.grader.analyze_scan``.
"""
