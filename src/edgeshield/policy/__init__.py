"""edgeshield.policy"""
