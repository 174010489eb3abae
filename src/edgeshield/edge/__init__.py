"""Code that ships to Lambda@Edge. Imports nothing outside this package and the stdlib."""
