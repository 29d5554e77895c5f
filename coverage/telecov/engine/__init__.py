"""The scan-line engine: regions, bands of pixel rows and the numba kernels that measure them."""
