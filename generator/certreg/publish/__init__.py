"""Outputs from the public view: PDF certificates, site pages, open data, feeds, the build."""

ENGINES = ("mkdocs", "zensical")  # what builds the hand-written pages of the site (publish.layer)
