"""Node contracts, schema references and capability declarations for Pureflow."""
