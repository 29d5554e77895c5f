"""Reading inputs and writing outputs: tables, sites, areas, rasters, refusals, output sets."""
