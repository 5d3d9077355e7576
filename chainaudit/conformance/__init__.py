"""Golden vectors: their generator, the checks of the library against them, and the comparison of another implementation's answers."""
