"""Demo district data for gridgeo, installed as ``gridgeo.demo_data``."""
