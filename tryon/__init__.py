"""Try-on: the fit engine (size recommendations) and the AR mirror."""
