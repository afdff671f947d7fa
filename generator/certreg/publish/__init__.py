"""Outputs from the public view: PDF certificates, site pages, open data, feeds, the build."""
