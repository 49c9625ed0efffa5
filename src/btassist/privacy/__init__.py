"""A person's rights over their data: everything stored about them, exported or erased."""
