"""The HTTP edge shared by every Face operation: versions, access, parsing, rendering."""
