namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Token positions grouped by id, computed on the host for the embedding backward: group g adds the positions
/// <c>Positions[Starts[g]..Starts[g + 1])</c> (ascending) into row <c>Targets[g]</c> of the gradient. Only ids that
/// occur form a group.
/// </summary>
internal sealed class EmbeddingGroups
{
    private EmbeddingGroups(int[] targets, int[] starts, int[] positions)
    {
        Targets = targets;
        Starts = starts;
        Positions = positions;
    }

    /// <summary>The gradient row each group adds into.</summary>
    public int[] Targets { get; }

    /// <summary>Where each group's positions start in <see cref="Positions"/>, plus the end (Count + 1 entries).</summary>
    public int[] Starts { get; }

    /// <summary>All groups' positions, group after group, each group's in ascending order.</summary>
    public int[] Positions { get; }

    /// <summary>The number of groups.</summary>
    public int Count => Targets.Length;

    /// <summary>One group per distinct id, in ascending id order; each adds into the row of its id.</summary>
    public static EmbeddingGroups ById(int[] ids) => Build(ids, [.. ids.Distinct().Order()], id => id);

    /// <summary>One group per row that occurs in <paramref name="ids"/>; group of rows[r] adds into row r.</summary>
    public static EmbeddingGroups ForRows(int[] ids, IReadOnlyList<int> rows)
    {
        var present = ids.ToHashSet();
        var rowOf = Enumerable.Range(0, rows.Count).ToDictionary(r => rows[r]);
        return Build(ids, [.. rows.Where(present.Contains)], id => rowOf[id]);
    }

    /// <summary>Groups for <paramref name="groupIds"/> (in that order), each adding into row targetOf(id).</summary>
    private static EmbeddingGroups Build(int[] ids, int[] groupIds, Func<int, int> targetOf)
    {
        var groupOf = new Dictionary<int, int>(groupIds.Length);
        for (int g = 0; g < groupIds.Length; g++) groupOf[groupIds[g]] = g;
        var starts = new int[groupIds.Length + 1];
        foreach (var id in ids)
            if (groupOf.TryGetValue(id, out int g)) starts[g + 1]++;
        for (int g = 0; g < groupIds.Length; g++) starts[g + 1] += starts[g];
        var positions = new int[starts[^1]];
        var next = (int[])starts.Clone();
        for (int p = 0; p < ids.Length; p++)
            if (groupOf.TryGetValue(ids[p], out int g)) positions[next[g]++] = p;
        return new EmbeddingGroups(groupIds.Select(targetOf).ToArray(), starts, positions);
    }
}
