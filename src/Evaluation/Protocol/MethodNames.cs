using System.Text.RegularExpressions;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>A method's name doubles as a folder name (DIR/libraries/METHOD, DIR/images/METHOD): lowercase letters, digits, '-', '_'.</summary>
public static partial class MethodNames
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex Pattern();
}
