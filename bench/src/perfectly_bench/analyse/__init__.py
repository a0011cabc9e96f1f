"""What the timings mean: derived figures with their intervals, and the model fitted to them."""
