using System.Globalization;
using System.Text.RegularExpressions;

namespace IlgpuDiffusion.Kernels;

/// <summary>What <c>ptxas -v</c> reports for one entry function: registers per thread and bytes of memory.</summary>
/// <param name="Registers">Registers per thread.</param>
/// <param name="SpillStoreBytes">Bytes of register spill stores to local memory.</param>
/// <param name="SpillLoadBytes">Bytes of register spill loads from local memory.</param>
/// <param name="SharedMemoryBytes">Static shared memory per block (<c>smem</c>; dynamic shared memory is not counted).</param>
/// <param name="StackFrameBytes">Per-thread stack frame (local arrays, spills, calls).</param>
public sealed partial record PtxasResources(
    int Registers, int SpillStoreBytes, int SpillLoadBytes, int SharedMemoryBytes, int StackFrameBytes)
{
    /// <summary>
    /// The resources of each entry function in ptxas's <c>-v</c> output, in order. Lines may come in any order
    /// within an entry's section; a missing figure counts as 0 (ptxas omits <c>smem</c> when there is none).
    /// Properties reported for non-entry functions (<c>.func</c>) are not attributed to an entry.
    /// </summary>
    public static IReadOnlyList<(string Entry, PtxasResources Resources)> Parse(string output)
    {
        var entries = new List<(string, PtxasResources)>();
        string? entry = null, propertiesOf = null;
        var current = new PtxasResources(0, 0, 0, 0, 0);
        foreach (var line in output.Split('\n'))
        {
            if (CompilingEntry().Match(line) is { Success: true } compiling)
            {
                if (entry is not null) entries.Add((entry, current));
                (entry, propertiesOf, current) = (compiling.Groups[1].Value, null, new PtxasResources(0, 0, 0, 0, 0));
            }
            else if (FunctionProperties().Match(line) is { Success: true } properties)
                propertiesOf = properties.Groups[1].Value;
            else if (entry is not null && line.Contains("stack frame", StringComparison.Ordinal) && propertiesOf == entry)
                current = current with
                {
                    StackFrameBytes = Figure(line, StackFrame()),
                    SpillStoreBytes = Figure(line, SpillStores()),
                    SpillLoadBytes = Figure(line, SpillLoads()),
                };
            else if (entry is not null && UsedRegisters().Match(line) is { Success: true } used)
                current = current with { Registers = Number(used), SharedMemoryBytes = Figure(line, SharedMemory()) };
        }
        if (entry is not null) entries.Add((entry, current));
        return entries;
    }

    private static int Figure(string line, Regex pattern) => pattern.Match(line) is { Success: true } m ? Number(m) : 0;

    private static int Number(Match m) => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Compiling entry function '([^']+)'")]
    private static partial Regex CompilingEntry();

    [GeneratedRegex(@"Function properties for (\S+)")]
    private static partial Regex FunctionProperties();

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex UsedRegisters();

    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex SharedMemory();

    [GeneratedRegex(@"(\d+) bytes stack frame")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"(\d+) bytes spill stores")]
    private static partial Regex SpillStores();

    [GeneratedRegex(@"(\d+) bytes spill loads")]
    private static partial Regex SpillLoads();
}
