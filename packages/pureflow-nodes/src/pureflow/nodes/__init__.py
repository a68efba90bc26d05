"""The Pureflow standard component library."""
