namespace IlgpuDiffusion.Model.Prompts;

/// <summary>
/// A run of prompt text with one attention weight, or the <see cref="Break"/> marker that starts a new 75-token chunk.
/// </summary>
/// <param name="Text">The literal text (brackets and escapes already resolved).</param>
/// <param name="Weight">The product of the multipliers of the brackets around it (1.0 outside any).</param>
public sealed record PromptSegment(string Text, double Weight)
{
    /// <summary>The <c>BREAK</c> keyword: pads the current chunk and starts a new one.</summary>
    public static PromptSegment Break { get; } = new("BREAK", 1.0) { IsBreak = true };

    /// <summary>True for <see cref="Break"/>.</summary>
    public bool IsBreak { get; private init; }
}
