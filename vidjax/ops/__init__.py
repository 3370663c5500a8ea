"""Array operations shared by the enhancement models, tasks and tools."""
