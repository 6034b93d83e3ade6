"""Media upload and download on local storage (``OMNIA_MEDIA_STORAGE_TYPE=local``)."""
