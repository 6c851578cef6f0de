"""Finding the input files (local folders and s3:// prefixes) and reading them."""
