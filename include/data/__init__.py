"""Landing data: the sample day, generated days and the generator that makes them."""
