"""Reading inputs and writing outputs.

Readers return accepted rows and refused rows with the first problem of each
(:mod:`~telecov.io.refusals`): :mod:`~telecov.io.sites`, :mod:`~telecov.io.areas`,
:mod:`~telecov.io.pois` on top of :mod:`~telecov.io.tables` (CSV text, encodings, decimal
separators, columns) and :mod:`~telecov.io.vectors` (vector layers);
:mod:`~telecov.io.population` opens rasters. Writers: :mod:`~telecov.io.formats` (CSV, JSON,
GeoJSON, GeoPackage, GeoParquet, Excel) and :mod:`~telecov.io.outputs` (atomic files and
output sets).
"""
