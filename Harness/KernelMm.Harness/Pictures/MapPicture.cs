namespace KernelMm.Harness.Pictures;

/// <summary>One cell of a map: its colour (an index into the picture's kinds), its marks, and what a tooltip says of it.</summary>
/// <param name="Kind">Index into <see cref="MapPicture.Kinds"/>.</param>
/// <param name="Marks">Its attribute strips.</param>
/// <param name="Detail">What it holds, without its address ("2M leaf", "4K leaves: ro 8K").</param>
public readonly record struct MapCell(int Kind, MapMarks Marks, string Detail);

/// <summary>One row of cells, keyed by the address it starts at (rows of two pictures are matched by key).</summary>
/// <param name="Start">The first address the row covers.</param>
/// <param name="Label">Printed left of the row.</param>
/// <param name="Cells">Its cells, left to right, each <see cref="MapPicture.CellBytes"/> of the address space.</param>
public sealed record MapRow(ulong Start, string Label, IReadOnlyList<MapCell> Cells);

/// <summary>A colour of the legend and what it means.</summary>
public sealed record MapKind(string Colour, string Label);

/// <summary>
/// A map ready to draw: rows of cells, the legend of its colours and marks, and the lines
/// said beside it (cell size, counters). Built by <see cref="DirectMapPicture"/> and
/// <see cref="UserTablesPicture"/>; drawn by <see cref="SvgMap"/>.
/// </summary>
/// <param name="Title">The map's heading.</param>
/// <param name="Kinds">The cell colours, by kind index.</param>
/// <param name="Marks">The marks this map can show (a mark it cannot tell is left out of the legend with a note).</param>
/// <param name="Notes">Lines printed under the legend: scale, counters, what the source cannot tell.</param>
/// <param name="CellBytes">Bytes of address space per cell.</param>
/// <param name="Rows">Rows in address order.</param>
public sealed record MapPicture(string Title, IReadOnlyList<MapKind> Kinds, MapMarks Marks, IReadOnlyList<string> Notes, ulong CellBytes, IReadOnlyList<MapRow> Rows)
{
    /// <summary>Cells per row: every map is drawn 512 cells wide (a 1 GiB row of 2 MiB cells at its finest).</summary>
    public const int CellsPerRow = 512;
}
