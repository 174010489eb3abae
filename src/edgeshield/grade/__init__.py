"""edgeshield.grade"""
