"""edgeshield.cloudfront"""
