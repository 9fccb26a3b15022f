namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A parsed device selection: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (from <c>--device</c> or the
/// <c>IDF_DEVICE</c> environment variable). <see cref="Auto"/> means "CUDA device 0 if present, else the CPU".
/// </summary>
public readonly record struct DeviceSpec(DeviceKind? Kind, int Index)
{
    /// <summary>The environment variable that selects the default device.</summary>
    public const string EnvironmentVariable = "IDF_DEVICE";

    /// <summary>No explicit choice: CUDA device 0 when one exists, otherwise the CPU accelerator.</summary>
    public static DeviceSpec Auto => new(null, 0);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The text is none of these; the message says what is accepted.</exception>
    public static DeviceSpec Parse(string text, string source = "--device")
    {
        var t = text.Trim().ToLowerInvariant();
        if (t is "auto" or "") return Auto;
        if (t == "cpu") return new(DeviceKind.Cpu, 0);
        if (t == "cuda") return new(DeviceKind.Cuda, 0);
        if (t.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(t.AsSpan(5), System.Globalization.NumberStyles.None, null, out var index))
            return new(DeviceKind.Cuda, index);
        throw new ArgumentException($"{source}: '{text}' is not a device; expected cpu, cuda, cuda:N or auto.");
    }

    /// <summary>The selection from <c>IDF_DEVICE</c>, or <see cref="Auto"/> when it is unset.</summary>
    public static DeviceSpec FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(value) ? Auto : Parse(value, EnvironmentVariable);
    }

    public override string ToString() => Kind switch
    {
        null => "auto",
        DeviceKind.Cpu => "cpu",
        _ => $"cuda:{Index}",
    };
}
