"""The upload gate and its readers: every file a user brings comes in through :mod:`geo.upload.gate`.

* :mod:`~geo.upload.gate`: ``accept_upload`` / ``accept_file`` (size, type, archive safety), then the
  readers below;
* :mod:`~geo.upload.sniff`: what kind of file it is, by content, and its text encoding;
* :mod:`~geo.upload.archives`: zip checks (bombs, traversal, links) and safe extraction;
* :mod:`~geo.upload.tables`: CSV text into a table of strings (delimiters, decimal commas, formulas);
* :mod:`~geo.upload.vectors`: GeoJSON, zipped shapefiles and GeoPackages into EPSG:27700.
"""
