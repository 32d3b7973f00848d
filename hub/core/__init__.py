"""The bottom layer: errors, ids, codes, records, settings, databases, the crosswalk, the principal."""
