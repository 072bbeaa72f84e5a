"""Running the AIOS services: their catalogue and the process manager that supervises them."""
