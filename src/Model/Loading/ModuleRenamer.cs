namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// Renames tensors module by module: each rule maps a module path (e.g. <c>input_blocks.1.0</c>) to another
/// (<c>down_blocks.0.resnets.0</c>) and may rename the sub-modules inside it (<c>in_layers.0</c> → <c>norm1</c>).
/// A tensor name is matched against the longest rule prefix that ends at a dot; the parameter name
/// (<c>weight</c>, <c>bias</c>) is kept.
/// </summary>
internal sealed class ModuleRenamer
{
    private readonly Dictionary<string, (string Target, IReadOnlyDictionary<string, string>? Inner)> rules = new(StringComparer.Ordinal);

    /// <summary>Maps module <paramref name="from"/> to <paramref name="to"/>, renaming its sub-modules by <paramref name="inner"/>.</summary>
    public ModuleRenamer Add(string from, string to, IReadOnlyDictionary<string, string>? inner = null)
    {
        rules.Add(from, (to, inner));
        return this;
    }

    /// <summary>
    /// The renamer that maps back: each rule's target to its source, with the sub-module renames reversed. Throws
    /// <see cref="ArgumentException"/> when two rules (or two sub-module renames) share a target, so the mapping has
    /// no inverse.
    /// </summary>
    public ModuleRenamer Inverse() => rules.Aggregate(new ModuleRenamer(), (inverse, rule) =>
        inverse.Add(rule.Value.Target, rule.Key, rule.Value.Inner?.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal)));

    /// <summary>The renamed tensor name, or null when no rule covers <paramref name="name"/>.</summary>
    public string? Map(string name)
    {
        for (int end = name.Length; end > 0; end = name.LastIndexOf('.', end - 1))
        {
            if (!rules.TryGetValue(name[..end], out var rule)) continue;
            if (end == name.Length) return rule.Target;
            var rest = name[(end + 1)..];
            int lastDot = rest.LastIndexOf('.');
            if (lastDot > 0 && rule.Inner is { } inner && inner.TryGetValue(rest[..lastDot], out var renamed))
                rest = renamed + rest[lastDot..];
            return $"{rule.Target}.{rest}";
        }
        return null;
    }
}
