"""Administration in the browser and the API: things administrators maintain as data."""
