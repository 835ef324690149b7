"""Draw ``static/europe.svg``: Europe as dots where people live, for the web chat's point picker.

The network is closed, so the page cannot load map tiles. Instead, every cell of a small grid
that holds a place of the bot's own GeoNames extract (``bot/places``: the served countries'
towns and villages, towns of 5,000+ inhabitants elsewhere) is filled: the coastlines and the
empty seas appear by themselves.

The projection is equirectangular, stretched at 52°N so that Europe keeps its shape; the page
(``static/location.js``) inverts it with the same constants, kept in the SVG's ``data-*``.
Regenerate with ``python -m bot.sandbox.europe_map`` (the output is committed).
"""

from __future__ import annotations

import math
from pathlib import Path

WEST, EAST, SOUTH, NORTH = -25.0, 45.0, 34.0, 71.5
CELL_LAT = 0.2  # degrees of latitude per grid row
CELL_LON = CELL_LAT / math.cos(math.radians(52))  # about the same distance east-west
OUTPUT = Path(__file__).with_name("static") / "europe.svg"


def land_cells(points: list[tuple[float, float]]) -> set[tuple[int, int]]:
    """Grid cells (column, row) holding at least one of ``points`` (latitude, longitude)."""
    cells = set()
    for latitude, longitude in points:
        if SOUTH <= latitude < NORTH and WEST <= longitude < EAST:
            cells.add((int((longitude - WEST) / CELL_LON), int((NORTH - latitude) / CELL_LAT)))
    return cells


def fill_gaps(cells: set[tuple[int, int]], neighbours: int = 3) -> set[tuple[int, int]]:
    """Fill empty cells surrounded by land (sparsely settled north and east look solid)."""
    around = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
    candidates = {(x + dx, y + dy) for x, y in cells for dx, dy in around} - cells
    return cells | {
        (x, y)
        for x, y in candidates
        if sum((x + dx, y + dy) in cells for dx, dy in around) >= neighbours
    }


def svg(cells: set[tuple[int, int]]) -> str:
    """The map: one path, horizontal runs of cells merged to keep it small."""
    columns = math.ceil((EAST - WEST) / CELL_LON)
    rows = math.ceil((NORTH - SOUTH) / CELL_LAT)
    width, height = (EAST - WEST) / CELL_LON, (NORTH - SOUTH) / CELL_LAT
    runs = []
    for row in range(rows):
        column = 0
        while column < columns:
            if (column, row) not in cells:
                column += 1
                continue
            start = column
            while (column, row) in cells:
                column += 1
            runs.append(f"M{start} {row}h{column - start}v1h{start - column}z")
    return (
        # The view box spans exactly WEST..EAST and NORTH..SOUTH, so that the page can map
        # a click linearly; the last column and row are cut where they pass the edge.
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.4f} {height:.4f}" '
        f'data-west="{WEST}" data-east="{EAST}" data-south="{SOUTH}" data-north="{NORTH}" '
        f'data-cell-lat="{CELL_LAT}" data-cell-lon="{CELL_LON:.6f}">'
        f'<rect width="{width:.4f}" height="{height:.4f}" fill="#dbeaf5"/>'
        f'<path fill="#9fbf8f" d="{"".join(runs)}"/></svg>\n'
    )


def main() -> None:
    """Write the map from the places the bot knows."""
    from bot.places.index import index

    places = [(place.latitude, place.longitude) for place in index()]
    OUTPUT.write_text(svg(fill_gaps(land_cells(places))))
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
