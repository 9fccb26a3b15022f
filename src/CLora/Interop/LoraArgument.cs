using System.Globalization;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// The value of <c>generate --lora FILE[:weight]</c>. The weight is the text after the last ':' only when that text
/// is a finite number (invariant culture), so Windows paths work: <c>C:\loras\x.safetensors</c> is a path with weight 1,
/// <c>C:\loras\x.safetensors:0.7</c> the same path with weight 0.7.
/// </summary>
public sealed record LoraArgument(string Path, double Weight)
{
    public const double DefaultWeight = 1.0;

    /// <summary>Parses <paramref name="text"/>; throws <see cref="ArgumentException"/> naming <c>--lora</c> when no file is given.</summary>
    public static LoraArgument Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.LastIndexOf(':');
        var (path, weight) = colon >= 0 && double.TryParse(text.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && double.IsFinite(w)
            ? (text[..colon], w)
            : (text, DefaultWeight);
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"--lora '{text}': expected FILE[:weight], e.g. style.safetensors:0.8; no file is given.", nameof(text));
        return new LoraArgument(path, weight);
    }
}
