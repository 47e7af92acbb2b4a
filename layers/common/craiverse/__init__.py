"""Domain code shared by every CRAIverse API function (deployed as the common Lambda layer)."""
