"""Pure, runtime-free projections of Pureflow workflows, contracts and capabilities."""
