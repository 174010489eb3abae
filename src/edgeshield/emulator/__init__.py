"""edgeshield.emulator"""
