"""edgeshield.aws"""
